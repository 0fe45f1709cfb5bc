package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store/s3"
)

const archiveWALAbout = `
Archives a PostgreSQL server's write-ahead log (WAL) to S3, continuously,
for point-in-time restores ('dbbackup restore --pgdata'), without
reconfiguring the server: it runs pg_receivewal through a physical
replication slot (made when missing), so the server keeps every segment
the archiver has not received, even while it is down or restarting.

pg_receivewal writes into a spool folder; each finished segment and
timeline history file is uploaded (zstd, 1 MiB frames each sealed with a
CRC-32C, or with --encryption-key-file AES-256-GCM) to
<path>/<scope>/_logs/wal/<name> and then removed from the spool (but the
newest segment, from which a restarted pg_receivewal goes on); the
segment being written is uploaded as <name>.partial at least every
--partial-interval while it grows, so the newest recoverable moment lags
the server by seconds. Files left in the spool by an archiver that was
killed are uploaded when it starts again. Every minute it logs a warning
when the slot holds back more WAL on the server than --warn-retained-mib
(the archiver cannot keep up, or cannot upload). One archiver at a time may use a
spool (a lock file in it says so).

It runs in the foreground until SIGTERM or SIGINT; then it stops
pg_receivewal, uploads everything received, the partial segment included,
and exits 0. The URL names the server, without a database:
postgres://user@host:port/; the user needs the REPLICATION attribute and a
pg_hba.conf line for replication connections. The password comes from
PGPASSWORD.

Exit codes: 0 stopped by a signal with everything uploaded; 1 the slot or
the spool could not be set up, or the last uploads failed; 2 unusable
command line (a missing or invalid flag, an argument, a storage
configuration or key file that cannot be read or is too large).`

func runArchiveWAL(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("archive-wal", "--database-url postgres://USER@HOST:PORT/ --storage-config FILE --scope NAME [flags]", archiveWALAbout, stderr)
	dbURL := fs.String("database-url", "", "the PostgreSQL server, without password or database (required)")
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	scope := fs.String("scope", "", "the folder under the storage path, as for backups (required)")
	keyFile := fs.String("encryption-key-file", "", "encrypt with the key in this file (32 bytes, 64 hex digits or base64)")
	slot := fs.String("slot", "dbbackup", "the replication slot (lower-case letters, digits, underscores)")
	spool := fs.String("spool-dir", "", "where pg_receivewal writes, kept across restarts; one per server (default: <user cache dir>/dbbackup/wal/<scope>/<host>-<port>)")
	every := fs.Duration("partial-interval", 10*time.Second, "how often the segment being written is uploaded, 1s to 10s")
	warnMiB := fs.Int64("warn-retained-mib", 1024, "warn (every minute) when the slot holds back more WAL on the server than this many MiB; 0: never")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	eng, conn, err := openEngine(string(engine.PostgreSQL), *dbURL)
	if err != nil {
		return usageError(stderr, "archive-wal", err)
	}
	if conn.Database != "" {
		return usageError(stderr, "archive-wal", fmt.Errorf("--database-url: the archiver streams the whole server's WAL; give no database name (postgres://user@host:port/)"))
	}
	if *scope == "" {
		return usageError(stderr, "archive-wal", fmt.Errorf("--scope is required"))
	}
	if err := checkScope(*scope); err != nil {
		return usageError(stderr, "archive-wal", err)
	}
	if err := postgres.CheckSlotName(*slot); err != nil {
		return usageError(stderr, "archive-wal", fmt.Errorf("invalid --slot: %w", err))
	}
	if *every < time.Second || *every > 10*time.Second {
		return usageError(stderr, "archive-wal", fmt.Errorf("--partial-interval %s is not from 1s to 10s", *every))
	}
	if *warnMiB < 0 || *warnMiB > 1<<20 {
		return usageError(stderr, "archive-wal", fmt.Errorf("--warn-retained-mib %d is not from 0 to %d", *warnMiB, 1<<20))
	}
	if *spool == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return usageError(stderr, "archive-wal", fmt.Errorf("--spool-dir is required: %v", err))
		}
		// One spool per scope and server: a spool holds one server's WAL.
		*spool = filepath.Join(dir, "dbbackup", "wal", *scope, strings.NewReplacer(":", "-", "[", "", "]", "").Replace(conn.Addr()))
	} else if !filepath.IsAbs(*spool) {
		return usageError(stderr, "archive-wal", fmt.Errorf("--spool-dir %q must be an absolute path", *spool))
	}
	st, cfg, err := openStoreWith(*cfgPath, s3.ArchiverOptions())
	if err != nil {
		return usageError(stderr, "archive-wal", err)
	}
	var key []byte
	if *keyFile != "" {
		if key, err = artefact.ReadKeyFile(*keyFile); err != nil {
			return usageError(stderr, "archive-wal", err)
		}
	}
	defer pitr.LimitArchiverMemory()()
	secrets := append(cfg.Secrets(), conn.Password)
	ctx, cancel := signalContext()
	defer cancel()
	fmt.Fprintf(stderr, "dbbackup archive-wal: archiving the WAL of %s to scope %s (spool %s, slot %s)\n", conn.Addr(), *scope, *spool, *slot)
	err = eng.(*postgres.Engine).ArchiveWAL(ctx, postgres.ArchiveSpec{Spool: *spool, Slot: *slot, PartialEvery: *every,
		WarnRetained: *warnMiB << 20,
		Log:          &scrubWriter{w: stderr, secrets: secrets}}, pitr.Archive{Store: st, Scope: *scope, Key: key}.WAL())
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup archive-wal: %v\n", secret.Scrub(err.Error(), secrets))
		return exitFail
	}
	return exitOK
}
