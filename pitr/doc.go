// Package pitr is point-in-time recovery over the artefact store, for both
// engines, shared by the command line, the provider (backupagent) and the
// manager: a scope's log archive as each engine's archiver and restore
// read and write it (MariaDB binary logs, PostgreSQL WAL), the recoverable
// windows worked out from the bucket, the base backup a restore to a time
// starts from, and the binary logs such a restore fetches and verifies
// before anything reaches the database.
package pitr
