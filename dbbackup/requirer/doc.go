// Package requirer holds the backup manager's pure decisions for the
// database_backup relation: it does no I/O. The charm reads databags and
// state, calls these functions with the values read and the time of the
// hook, and writes back what they return.
//
// # Job ids
//
// NewJobID names a job "job-<UTC time>-<8 hex>", for example
// "job-20261125T130102Z-0a1b2c3d". The ids sort by the second they were made
// in, match dbbackup.ValidJobID and are safe as an S3 key part; the random
// suffix (crypto/rand in production, a seeded reader in tests) keeps two ids
// of the same second apart, and Request refuses a duplicate anyway.
//
// # History: where the full record lives
//
// History is the manager's full record of jobs: one Record per job, sorted
// by job id (so by request time). The leader keeps it as one JSON value
// (History.Marshal, ParseHistory) under HistoryKey in the application
// databag of the manager's peer relation. Peer application data is kept by
// the Juju controller, so it survives leader changes, unit restarts and the
// loss of a machine, and every unit can read it for show-job; only the
// leader writes it. Credentials are never part of it: a Record keeps the
// storage configuration as Storage, which has no field for a key, and the
// keys are applied only when RelationJobs builds the relation databag.
//
// The history is bounded. Merge keeps at most MaxCompleted
// terminal records, taking at most MaxHistoryBytes stored; beyond either,
// the records that finished first are dropped (Compact) and counted per
// application and status in History.Dropped, so list-jobs can say how many
// older jobs are no longer shown. Waiting and running records are never
// dropped; their number is bounded by the pending limit of CanRequest per
// application. Messages are cut at MaxMessage bytes. A record with a short
// message takes about 400 bytes, so 1,000 finished jobs take about 400 KiB
// and the stored history stays under 1 MiB whatever the messages hold
// (TestHistoryStaysUnder1MiB runs 10,000 jobs through it).
//
// # Statuses and the rules of Merge
//
// A record is waiting (requested, no unit reports it), running, or terminal:
// success, error or lost. Merge folds the reports of the related
// application's units into the history:
//
//   - A report for a job id the manager did not request for that
//     application (or with another job type) is ignored; a Change says so.
//   - When several units report a job, a terminal report beats a running one;
//     between reports of the same kind, the unit already recorded as running
//     the job wins, then the unit with the smallest name (mysql/2 before
//     mysql/10). Reports come only from units present in the reports map,
//     which are the live units: a departed unit's earlier observations live
//     only in the history and never override a live unit's report.
//   - A terminal status, once recorded, never changes: a later report that
//     disagrees is ignored and reported as a Change.
//   - A waiting or running job that no unit reports is marked lost once more
//     than lostAfter has passed since it was requested or last seen running
//     (for example: requested but never picked up, or its unit departed and
//     no unit took it over). Lost is terminal for the manager: the job leaves
//     the relation databag, so a provider that comes late does not run it,
//     and a late report is ignored. lostAfter must be longer than the
//     longest time a job may wait in a provider's queue plus the interval
//     between hooks (update-status); zero or less disables it.
//
// # The relation databag
//
// RelationJobs writes only waiting and running jobs, at most limit of them,
// so the requirer databag stays small whatever the history holds; terminal
// jobs leave the databag, and their results stay in the history. CanRequest
// refuses a new job when limit jobs are already pending for the application
// (ErrTooManyPending) and a restore while another restore of the same
// application is waiting or running (ErrRestoreRunning).
//
// # Schedules
//
// ParseSchedule reads a cron expression (five fields or a descriptor such
// as @daily; UTC; @every and time zones refused so that every leader
// computes the same slots). Due decides, from the expression, the state
// stored for the application (ScheduleState, under ScheduleKey in the peer
// application databag) and the time of the hook, whether a backup is due:
// once per slot, for the latest slot at or before now, so a manager that
// was down over several slots requests one catch-up backup, not one per
// slot; a new or changed expression starts at now without catch-up. The
// leader stores the new state in the same hook as the job it requests:
// both commit or neither does, so a leader change never requests a slot
// twice or never.
//
// # Retention
//
// Expire picks the successful backups of one application that a
// Retention (retention-count, retention-days) lets go: the most recent is
// always kept, as is any backup a waiting or running restore reads; with
// both rules set, a backup is kept when either keeps it. ParsePerApp reads
// the per-application form of these options ("7", or "pg=7; *=3").
//
// # Views
//
// View turns the history into rows for list-jobs and show-job. MergeDatabags
// is the stateless counterpart for the dbbackup jobs command, which sees
// only one snapshot of the relation: the jobs the manager requests and each
// provider unit's report.
package requirer
