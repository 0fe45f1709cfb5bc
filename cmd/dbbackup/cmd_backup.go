package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/secret"
)

const backupAbout = `
Backs up a database (or all of them) to S3 by driving the database's own
dump tool, streaming through zstd compression, 1 MiB frames each sealed
with a CRC-32C (with --encryption-key-file: AES-256-GCM instead) and a
multipart upload, without holding the backup in memory or on disk; the
manifest records the SHA-256 of every object and of the raw dump. The objects land under <path>/<scope>/<job-id>/: the
data, backup.log (the tool's log) and manifest.json, written last: a backup
without its manifest is incomplete and is never restored.

The URL is postgres://user@host:port/dbname or mysql://user@host:port/dbname;
no dbname means all databases. The password comes from PGPASSWORD or
MYSQL_PWD, never from the command line.

With --method physical (PostgreSQL only) it takes a physical base backup
of the whole server instead, for point-in-time restores: pg_basebackup
streams the data directory as one tar through the replication protocol
(with the WAL that makes it consistent, and PostgreSQL's backup_manifest),
through the same pipeline. The manifest records the start and end WAL
positions, the timeline, the times, the server version and the system
identifier. The URL then names no database (postgres://user@host:port/);
the user needs the REPLICATION attribute. Run 'dbbackup archive-wal'
beside it, started before the base backup, to restore to any moment after
it.

Prints the artefact path (what restore, verify and delete take). Progress
goes to standard error: a bar on a terminal, a line every 10s otherwise.

Exit codes: 0 the backup is complete; 1 it failed (the tool's own error is
shown); 2 unusable command line (a missing or invalid flag, an argument, a
storage configuration or key file that cannot be read or is too large).`

// backupReport is the --json output of backup.
type backupReport struct {
	JobID        string   `json:"job-id"`
	ArtefactPath string   `json:"artefact-path"`
	Engine       string   `json:"engine"`
	Databases    []string `json:"databases"`
	RawBytes     int64    `json:"raw-bytes"`
	StoredBytes  int64    `json:"stored-bytes"`
	Seconds      float64  `json:"seconds"`
	Compression  string   `json:"compression"`
	Encryption   string   `json:"encryption"`
	Method       string   `json:"method"`
	// Physical is a physical backup's WAL positions, timeline, times and
	// system identifier.
	Physical *engine.Physical `json:"physical,omitempty"`
}

func runBackup(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("backup", "--engine postgresql|mysql --database-url URL --storage-config FILE [flags]", backupAbout, stderr)
	kind := fs.String("engine", "", "postgresql or mysql (required)")
	dbURL := fs.String("database-url", "", "the database to back up, without password (required)")
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	compression := fs.Bool("compression", true, "compress with zstd")
	keyFile := fs.String("encryption-key-file", "", "encrypt with the key in this file (32 bytes, 64 hex digits or base64)")
	jobID := fs.String("job-id", "", "the backup's id (default: a new time-sortable id)")
	scope := fs.String("scope", "", "the folder under the storage path (default: the engine name)")
	asJSON := fs.Bool("json", false, "print a JSON report instead of the artefact path")
	method := fs.String("method", "logical", "logical (a dump) or physical (a PostgreSQL base backup for point-in-time restores)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	eng, conn, err := openEngine(*kind, *dbURL)
	if err != nil {
		return usageError(stderr, "backup", err)
	}
	switch engine.Method(*method) {
	case engine.MethodLogical:
	case engine.MethodPhysical:
		if eng.Kind() != engine.PostgreSQL {
			return usageError(stderr, "backup", fmt.Errorf("--method physical is for --engine postgresql"))
		}
		if conn.Database != "" {
			return usageError(stderr, "backup", fmt.Errorf("--database-url: a physical backup is of the whole server; give no database name (postgres://user@host:port/)"))
		}
	default:
		return usageError(stderr, "backup", fmt.Errorf("--method must be logical or physical, got %q", *method))
	}
	if *jobID == "" {
		*jobID = requirer.NewJobID(time.Now(), rand.Reader)
	}
	if *scope == "" {
		*scope = *kind
	}
	if err := checkScope(*scope); err != nil {
		return usageError(stderr, "backup", err)
	}
	if err := checkJobID(*jobID); err != nil {
		return usageError(stderr, "backup", err)
	}
	st, cfg, err := openStore(*cfgPath)
	if err != nil {
		return usageError(stderr, "backup", err)
	}
	var key []byte
	if *keyFile != "" {
		if key, err = artefact.ReadKeyFile(*keyFile); err != nil {
			return usageError(stderr, "backup", err)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	prog := newProgress(stderr, "backup", 0)
	start := time.Now()
	m, err := artefact.Backup(ctx, st, artefact.BackupOptions{
		Scope: *scope, JobID: *jobID, Engine: eng.Kind(), Method: engine.Method(*method), Compression: *compression, Key: key,
		Secrets: append(cfg.Secrets(), conn.Password),
	}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		return eng.Backup(ctx, engine.BackupSpec{Method: engine.Method(*method), Log: log, Progress: prog.update}, w)
	})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup backup: %v\n", secret.Guard(err, append(cfg.Secrets(), conn.Password)))
		return exitFail
	}
	prog.done()
	path := m.Ref().Under(cfg.Path).Path()
	if *asJSON {
		return writeJSON(stdout, backupReport{
			JobID: m.JobID, ArtefactPath: path, Engine: string(m.Engine.Kind), Databases: m.Engine.Databases,
			RawBytes: m.RawBytes, StoredBytes: m.StoredBytes, Seconds: time.Since(start).Seconds(),
			Compression: m.Compression, Encryption: m.Encryption, Method: string(m.Engine.Method), Physical: m.Engine.Physical,
		})
	}
	fmt.Fprintln(stdout, path)
	return exitOK
}
