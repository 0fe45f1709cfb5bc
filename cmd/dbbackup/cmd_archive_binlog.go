package main

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store/s3"
)

const archiveBinlogAbout = `
Archives a MariaDB server's binary logs to S3 without end, for restores to a
time (restore --restore-to-time). It runs in the foreground until SIGTERM or
SIGINT; then it stores everything received and exits 0.

It streams the logs with the server's own tool, "mariadb-binlog
--read-from-remote-server --raw --stop-never", into a temporary folder, and
stores each file under <storage path>/<scope>/_logs/binlog/: checked first
(every event in its place, its CRC-32, each file ending in a rotate event
that names the next), compressed, checksummed and, with a key, encrypted
like a backup. Each file is stored in pieces of at most --piece-size bytes
(or one event larger than that), each cut after a whole event: a piece is
stored once, for good; the file's growing end, its tail, whenever it grew,
at least every 5 seconds, each tail replacing the last; the file is complete
when its last piece is stored. So a store uploads at most a piece and what
arrived since the last, however large the file grows.

Started again (after a stop, a crash or a kill), it resumes after the last
file stored whole, fetching the partial one again from the server (its
pieces already stored are not stored again): no gap, no duplicate. A file it needs that the server has purged (PURGE BINARY
LOGS, expire_logs_days) is a gap it reports by name, exiting 1; it never
skips one. Restores to a time need a backup taken after the gap then.

The server must write a binary log (--log-bin, --binlog-format=ROW, a
server-id); the account needs REPLICATION SLAVE and BINLOG MONITOR. The URL
names the server, no database (binary logs are the server's). The password
comes from MYSQL_PWD.

Exit codes: 0 stopped by SIGTERM or SIGINT, everything received stored; 1
failed (log_bin off, a purged file, a server or S3 error); 2 unusable command
line (a missing or invalid flag, an argument, a storage configuration or
key file that cannot be read or is too large).`

func runArchiveBinlog(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("archive-binlog", "--database-url mysql://USER@HOST:PORT/ --storage-config FILE --scope NAME [flags]", archiveBinlogAbout, stderr)
	dbURL := fs.String("database-url", "", "the MariaDB server, without password or database (required)")
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	scope := fs.String("scope", "", "the folder under the storage path the server's backups use (required)")
	keyFile := fs.String("encryption-key-file", "", "encrypt with the key in this file (32 bytes, 64 hex digits or base64)")
	pieceSize := fs.Int64("piece-size", mysql.DefaultPieceSize, "the most bytes a stored piece of a binary log holds (1024 to 1073741824)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *pieceSize < 1<<10 || *pieceSize > 1<<30 {
		return usageError(stderr, "archive-binlog", fmt.Errorf("--piece-size %d: must be 1024 to 1073741824 bytes", *pieceSize))
	}
	eng, conn, err := openEngine(string(engine.MySQL), *dbURL)
	if err != nil {
		return usageError(stderr, "archive-binlog", err)
	}
	if conn.Database != "" {
		return usageError(stderr, "archive-binlog", fmt.Errorf("--database-url names database %q: binary logs are the whole server's, give none (mysql://USER@HOST:PORT/)", conn.Database))
	}
	if *scope == "" {
		return usageError(stderr, "archive-binlog", errors.New("--scope is required"))
	}
	if err := checkScope(*scope); err != nil {
		return usageError(stderr, "archive-binlog", err)
	}
	cfg, err := readStorageConfig(*cfgPath)
	if err != nil {
		return usageError(stderr, "archive-binlog", err)
	}
	st, err := s3.New(cfg, s3.ArchiverOptions())
	if err != nil {
		return usageError(stderr, "archive-binlog", err)
	}
	var key []byte
	if *keyFile != "" {
		if key, err = artefact.ReadKeyFile(*keyFile); err != nil {
			return usageError(stderr, "archive-binlog", err)
		}
	}
	// About 31 MiB peak RSS under a write load, against 42 MiB without.
	defer pitr.LimitArchiverMemory()()
	ctx, cancel := signalContext()
	defer cancel()
	secrets := append(cfg.Secrets(), conn.Password)
	log := &scrubWriter{w: stderr, secrets: secrets}
	err = eng.(*mysql.Engine).ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: pitr.Archive{Store: st, Scope: *scope, Key: key}.Binlogs(), Log: log,
		PieceSize: *pieceSize})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup archive-binlog: %v\n", secret.Guard(err, secrets))
		return exitFail
	}
	fmt.Fprintf(stdout, "archived the binary logs of %s into scope %s\n", conn.Addr(), *scope)
	return exitOK
}

// scrubWriter masks secrets in what is written through it, one write at a
// time (writers in several goroutines may share it).
type scrubWriter struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

func (s *scrubWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, secret.Scrub(string(p), s.secrets)); err != nil {
		return 0, err
	}
	return len(p), nil
}
