// Package runner is the provider unit's job runner: a long-lived process
// beside the charm that runs the backups and restores the unit plan of
// dbbackup/provider hands it, so that no hook ever waits for a dump.
//
// Hooks and the runner meet in a journal folder (see Journal): one file per
// job, written atomically (temporary file, fsync, rename, fsync of the
// folder). A hook submits a job the plan tells it to start (state pending)
// and returns at once; the runner picks it up within its poll interval,
// marks it running, runs it with the Executor it was handed and records success (with the
// artefact path) or error (with a message a person can act on), then asks
// the charm to report through Options.Notify (juju-exec in a charm; the next
// update-status is the fallback).
//
// A crash or restart never loses a job: when the runner starts, every job
// left running by a dead runner becomes error "interrupted (the runner
// stopped mid-job)" (the artefact layer writes no manifest for a backup
// that did not finish, so nothing of it is restorable), and every pending
// job starts. A file lock on the folder guarantees one runner per journal.
//
// The runner knows no engine and no store: what a job does is the
// Executor's business (backupagent.Executor picks the engine and opens the
// store). It imports only the wire model (dbbackup), the provider's rules
// (dbbackup/provider) and the lock. A record keeps the job as typed JSON
// fields; a record of the previous form (the job as wire text in a string)
// still reads, and is rewritten in the new form at its next transition.
// Besides the jobs, the folder keeps small values the agent records for
// the runner's Executor (Journal.SetValue: the database to use).
//
// The runner never decides which jobs a unit runs; the provider leader does
// (dbbackup/provider). As a second line of defence it still never starts a
// restore beside another job of its own unit, nor a backup beside a restore.
package runner
