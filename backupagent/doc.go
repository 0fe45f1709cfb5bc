// Package backupagent is what a Go charm (written with goops) calls in its
// hooks to serve the provider side of the database_backup relation: Sync
// reads the requirer's jobs, lets the provider leader assign them
// (dbbackup/provider), hands this unit's jobs to its runner (package
// runner) and writes the unit's reports; StartRunner and StopRunner manage
// the runner process; RunnerMain is that process, and Executor is what it
// runs each job with: the composition root that picks the engine of the
// recorded Database (SetDatabase) and opens the job's S3 store; Status is the workload
// status a person reads at a glance. See docs/provider.md for a complete
// minimal charm.
//
// The charm declares a provides endpoint of interface database_backup
// (limit 1; default name "database-backup") and a peer endpoint (default
// name "backup-peers"): the leader's assignment table lives in the peer
// application databag under "assignments", each unit's peer reports in its
// peer unit databag under "reports".
package backupagent
