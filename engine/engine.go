// Package engine defines how a database engine is backed up and restored as
// a stream of bytes, by driving the database's own tools. The packages
// engine/postgres and engine/mysql implement it; the artefact pipeline
// compresses, checksums and stores what an Engine writes, and feeds a Restore
// what it read back.
//
// Engines write uncompressed dumps (pg_dump -Fc -Z0, plain SQL for MariaDB):
// compression inside the dump tools is their bottleneck, and the pipeline
// compresses with zstd on its own cores.
package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// Kind names a database engine.
type Kind string

// The engine kinds this project knows.
const (
	PostgreSQL Kind = "postgresql"
	MySQL      Kind = "mysql" // MariaDB and MySQL servers
)

// Method names how a backup is taken. A backup taken by one method is
// restored by the same method; the artefact manifest records it.
type Method string

// The backup methods. MethodLogical is a dump by the database's own tool,
// restored into a running server by Restore. MethodPhysical is a copy of
// the server's files through its replication protocol (PostgreSQL's
// pg_basebackup), the base of a point-in-time recovery: Backup writes it,
// but it is restored into a data directory with the server stopped (see
// engine/postgres), never by Restore. Backup and Restore refuse a method
// they do not know with ErrUnsupportedMethod.
const (
	MethodLogical  Method = "logical"
	MethodPhysical Method = "physical"
)

// ErrUnsupportedMethod is returned (wrapped) by Backup and Restore for a
// method the engine does not implement.
var ErrUnsupportedMethod = errors.New("backup method not supported")

// Engine backs up and restores one database server.
//
// An Engine is bound to a Conn when it is made (postgres.New, mysql.New);
// Conn.Database chooses the scope: one database, or all of them when empty.
type Engine interface {
	// Kind returns the engine's kind.
	Kind() Kind
	// Check connects to the server and returns an error a person can act on,
	// such as "cannot connect to PostgreSQL at 127.0.0.1:5432: <reason>".
	Check(ctx context.Context) error
	// ServerVersion returns the server's version string.
	ServerVersion(ctx context.Context) (string, error)
	// Backup streams a backup into w. The tool's stderr goes to spec.Log;
	// on failure the error carries the last lines of it (see ToolError).
	Backup(ctx context.Context, spec BackupSpec, w io.Writer) (Result, error)
	// Restore reads a backup made by Backup from r and loads it into the
	// server. A failed read of r stops the tool before it can take the
	// truncated input for a complete one.
	Restore(ctx context.Context, spec RestoreSpec, r io.Reader) (Result, error)
	// NeedsCheckedStream reports whether restoring the backup described by
	// backup (its manifest's Result) needs a stream checked whole before
	// Restore reads its first byte, because a load that fails midway
	// cannot be undone. When false, Restore given RestoreSpec.Unchecked
	// leaves the target unchanged when the stream fails midway (PostgreSQL
	// in one transaction; MariaDB through a staging database), and may
	// still answer ErrNeedsCheckedStream, having changed nothing, when it
	// finds it cannot.
	NeedsCheckedStream(backup Result) bool
}

// ErrNeedsCheckedStream is returned (wrapped) by Restore, having changed
// nothing, for an unchecked stream it cannot load without that risk; the
// caller restores again from a checked stream.
var ErrNeedsCheckedStream = errors.New("this backup can only be restored from a stream checked beforehand")

// BackupSpec says how to take one backup.
type BackupSpec struct {
	// Method is the backup method; empty means MethodLogical.
	Method Method
	// Log receives the tool's stderr, line by line, with the password
	// masked: the job log. May be nil.
	Log io.Writer
	// Progress, when set, is called with the total bytes written so far,
	// from the goroutine that copies the stream: it must return quickly.
	Progress func(bytes int64)
}

// RestoreSpec says how to restore one backup.
type RestoreSpec struct {
	// Method is the method the backup was taken with; empty means
	// MethodLogical.
	Method Method
	// Database, when set, is the database a single-database backup is
	// restored into (created when missing); empty means the engine's
	// Conn.Database. To restore under the original name, pass the name the
	// backup's Result.Databases recorded. It is ignored for a backup of all
	// databases, which recreates each database under its own name.
	Database string
	// Log receives the tool's stderr, as in BackupSpec.
	Log io.Writer
	// Progress, when set, is called with the total bytes read so far.
	Progress func(bytes int64)
	// Unchecked says the stream is checked as it is read, not before: its
	// read may fail at any point, even at its very end. Only for backups
	// whose NeedsCheckedStream is false.
	Unchecked bool
}

// Result describes a finished backup or restore: what the artefact
// manifest records.
type Result struct {
	Kind   Kind   `json:"kind"`
	Method Method `json:"method"`
	// Format names the byte format of the stream, e.g. "pg_dump-custom",
	// "pg-cluster-v1" or "mysql-sql".
	Format string `json:"format"`
	// ServerVersion is the version the server reported.
	ServerVersion string `json:"server-version"`
	// Databases lists the databases the stream holds, sorted.
	Databases []string `json:"databases"`
	// Bytes counts the bytes of the stream written or read.
	Bytes int64 `json:"bytes"`
	// Tool and ToolVersion name the program that made or read the stream
	// (the first line of its --version).
	Tool        string `json:"tool"`
	ToolVersion string `json:"tool-version"`
	// TablesOnly says the backup holds tables and their rows and nothing
	// else (no views, triggers, stored routines or events), so an engine
	// may load it beside the target and swap the tables in. Set by the
	// MariaDB engine for a single database; absent from older manifests.
	TablesOnly bool `json:"tables-only,omitempty"`
	// Binlog is where a MariaDB backup stands in the binary log, taken
	// with the dump's snapshot; nil without binary logging.
	Binlog *BinlogPosition `json:"binlog,omitempty"`
	// Physical describes a physical backup (MethodPhysical): where its
	// write-ahead log starts and ends. Absent from logical backups.
	Physical *Physical `json:"physical,omitempty"`
}

// Physical is what a physical base backup records for a point-in-time
// recovery: the server it came from and the stretch of write-ahead log
// (WAL) that makes it consistent. Recovery replays WAL from StartLSN; the
// base is consistent, and so a valid starting point, for any target at or
// after EndTime.
type Physical struct {
	// SystemID is the server's system identifier (pg_control), in
	// decimal: every WAL segment replayed on the base must carry it.
	SystemID string `json:"system-identifier"`
	// Timeline is the timeline the backup started on.
	Timeline uint32 `json:"timeline"`
	// StartLSN and EndLSN bound the WAL the backup needs, as PostgreSQL
	// writes positions ("0/2000028").
	StartLSN string `json:"start-lsn"`
	EndLSN   string `json:"end-lsn"`
	// StartTime and EndTime are when the backup started and when it was
	// consistent, in UTC.
	StartTime time.Time `json:"start-time"`
	EndTime   time.Time `json:"end-time"`
	// WALSegmentSize is the server's WAL segment size in bytes.
	WALSegmentSize int64 `json:"wal-segment-size"`
}
