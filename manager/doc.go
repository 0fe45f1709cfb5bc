// Package manager is the requirer side of the database_backup relation as
// a library: what the database-backup-manager charm runs in every hook and
// action (Run), and its schedule's ticker process (TickerMain). The charm's
// main only wires goops and the simulator's seam (internal/charmenv) onto
// it. See docs/manager.md.
//
// Each hook loads this unit's view of the model once (world, manager.go)
// and the units below act on it; the decisions themselves are the pure
// rules of dbbackup/requirer:
//
//   - relation sync (relation.go): the database_backup relations, the
//     provider units' reports folded into the history, each application's
//     waiting and running jobs written back;
//   - credentials (s3.go, credsecret.go): the s3 relation's fields (v0) or
//     secret (v1), the bucket check, the Juju secret the jobs carry;
//   - history and state (peer.go): the peer application databag that holds
//     the history, the bucket check, the schedules' state and the deletion
//     log, written once per hook when it changed;
//   - configuration (config.go): the options, the schedules and retention;
//   - schedules (schedule.go, ticker.go): due slots requested exactly once,
//     and a ticker process (internal/daemon) that wakes the leader at due
//     times;
//   - retention (retention.go): expired backups, failed backups' leftovers
//     and unfinished uploads deleted, each deletion logged;
//   - actions (action_*.go, backups.go, backupquery.go, version.go,
//     eta.go): create-backup, restore, list-backups, list-jobs, show-job,
//     clear-history, delete-backup, verify-backup (and verifyschedule.go),
//     show-backup-log;
//   - status (status.go): the workload status a person reads at a glance.
package manager
