package main

import (
	"fmt"
	"io"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/secret"
)

const restoreAbout = `
Restores a backup made by 'dbbackup backup' into a database, giving back
the state the backup recorded: objects created since the backup neither
block the restore nor survive it, in the databases the backup holds.

Before a byte reaches a database it checks the manifest (it must name its
own folder), the engine and the key. With --encryption-key-file the
manifest's MAC under the key is checked before anything is downloaded,
and every part must be sealed under that key for this backup; an
unencrypted backup given a key, or an encrypted one given none, is
refused. Every frame is verified before its bytes are handed on.

What each backup shape does, and what it guarantees:
  PostgreSQL, one database: streamed into psql in one transaction that
    first empties the database and commits only after every check passed;
    a damaged backup rolls back, and a database the restore created is
    dropped again.
  PostgreSQL, all databases: downloaded and verified whole first, then
    the roles and each database of the backup (each emptied and loaded in
    its own transaction); other databases, and roles created since, are
    kept.
  MariaDB, one database of tables alone: loaded into a staging database
    (dbbackup_staging_<id>) while it is verified; one RENAME TABLE swaps
    every table of the target out and the backup's in, only when every
    check passed; what the target held besides is then dropped. It needs
    room for the tables twice for a moment and the right to create a
    database; a restore killed midway leaves the staging database, or after
    the swap dbbackup_old_<id>_N tables, for you to drop.
  MariaDB, any other backup: downloaded and verified whole first; each
    database of the backup is dropped and created again (character set,
    collation and grants kept), then loaded; other databases are kept.
A damaged, forged or incomplete backup is always refused before the first
byte reaches a database. A load that fails for another reason (the server
rejects a statement, the restore is killed) after a verified backup started loading can leave
PostgreSQL's earlier databases (all-databases backups) or a partly loaded
MariaDB database.

Physical PostgreSQL backups (backup --method physical) are restored with
--pgdata DIR into a data directory, with the server stopped, to a moment
(--restore-to-time) or to the end of the WAL archive that 'dbbackup
archive-wal' wrote: see the end of this text.

The URL names the target database; no dbname restores into the database(s)
the backup holds. The password comes from PGPASSWORD or MYSQL_PWD.

With --restore-to-time (MariaDB), the state at that time: the backup named
by --artefact-path, or else the newest backup of --scope finished before
the time, then the binary logs archive-binlog stored for the scope,
replayed from the backup's binary log position up to the time (events of
the time's own second included, later ones not). Every binary log needed
is downloaded and checked first (its checksums and key, every event's
place and CRC-32, each file naming the next, the archive reaching the
time): a missing or damaged one is refused before any statement reaches
the server. The replay runs with sql_log_bin=0, so that it is not
archived a second time: take a new backup after a restore to a time, as
the archive from then on holds the server's new history. It needs a
backup of one database, restored under its own name, made by a dbbackup
that records binary log positions, and an account that may replay
binary logs (BINLOG REPLAY) and turn off its session's binary log
(BINLOG ADMIN).

PostgreSQL point-in-time restore, --pgdata DIR [--restore-to-time RFC3339]: with
--artefact-path, that physical backup; with --scope instead, the newest
physical backup of the scope that was consistent at the target. Before
DIR is written, the base backup is verified whole, and so is every WAL
file recovery needs up to the target: no segment missing on the way
(timeline by timeline), each one's checksums, and its first page naming
the same segment, timeline and system identifier as the base (a segment
of another cluster is refused). A target before the base was consistent
or after the newest archived WAL is refused, naming the window. Then the
base is extracted into DIR (given to DIR's owner when run as root),
checked by pg_verifybackup against PostgreSQL's own backup_manifest, and
recovery.signal and the recovery settings are written: restore_command
runs 'dbbackup wal-fetch' with the storage configuration and key file
given here (so give them as absolute paths the server's user can read),
recovery_target_time and recovery_target_action=promote. 'pg_ctl -D DIR
start' then recovers to the target and the server runs read-write on a
new timeline; keep 'dbbackup archive-wal' running against it so that the
new timeline is archived too. Any refusal leaves DIR empty.

Exit codes: 0 restored; 1 refused (no database changed) or failed; 2
unusable command line (a missing or invalid flag, an argument, a storage
configuration or key file that cannot be read or is too large).`

// restoreReport is the --json output of restore.
type restoreReport struct {
	ArtefactPath string   `json:"artefact-path"`
	JobID        string   `json:"job-id"`
	Engine       string   `json:"engine"`
	Databases    []string `json:"databases"`
	RawBytes     int64    `json:"raw-bytes"`
	Seconds      float64  `json:"seconds"`
}

func runRestore(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("restore", "--engine postgresql|mysql --database-url URL --storage-config FILE --artefact-path P [flags]\n       dbbackup restore --engine postgresql --storage-config FILE --artefact-path P|--scope S --pgdata DIR [--restore-to-time RFC3339]", restoreAbout, stderr)
	kind := fs.String("engine", "", "postgresql or mysql (required)")
	dbURL := fs.String("database-url", "", "the database to restore into, without password (required)")
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	path := fs.String("artefact-path", "", "the backup's artefact path, as backup printed it (required, but for --restore-to-time or --pgdata with --scope)")
	keyFile := fs.String("encryption-key-file", "", "file holding the key of an encrypted backup")
	asJSON := fs.Bool("json", false, "print a JSON report")
	pgdata := fs.String("pgdata", "", "restore a physical PostgreSQL backup into this data directory (absolute, absent or empty) instead of a database")
	toTime := fs.String("restore-to-time", "", "restore the state at this time (RFC 3339, e.g. 2026-01-02T15:04:05Z): MariaDB from a backup and the archived binary logs; PostgreSQL, with --pgdata, from a physical backup and the archived WAL (default there: the end of the archive)")
	scope := fs.String("scope", "", "with --restore-to-time or --pgdata and no --artefact-path: take the newest backup of this scope before the time")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *pgdata != "" || (*kind == string(engine.PostgreSQL) && (*toTime != "" || *scope != "")) {
		return restorePhysical(physicalRestore{kind: *kind, dbURL: *dbURL, cfgPath: *cfgPath, path: *path, keyFile: *keyFile,
			pgdata: *pgdata, toTime: *toTime, scope: *scope, asJSON: *asJSON}, stdout, stderr)
	}
	eng, conn, err := openEngine(*kind, *dbURL) // openEngine refuses a password in the URL
	if err != nil {
		return usageError(stderr, "restore", err)
	}
	if *toTime != "" || *scope != "" {
		return runRestoreToTime(pitrFlags{toTime: *toTime, scope: *scope, path: *path, cfgPath: *cfgPath, keyFile: *keyFile, dbURL: *dbURL, asJSON: *asJSON}, eng, conn, stdout, stderr)
	}
	st, prefix, key, code := openArtefact(*cfgPath, *path, *keyFile, stderr, "restore")
	if code >= 0 {
		return code
	}
	cfg, _ := readStorageConfig(*cfgPath)
	secrets := append(cfg.Secrets(), conn.Password)
	ctx, cancel := signalContext()
	defer cancel()
	m, err := artefact.Open(ctx, st, prefix, key)
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup restore: %v\n", secret.Guard(err, secrets))
		return exitFail
	}
	if m.Engine.Kind != eng.Kind() {
		fmt.Fprintf(stderr, "dbbackup restore: %s holds a %s backup; it cannot be restored into %s\n", *path, m.Engine.Kind, eng.Kind())
		return exitFail
	}
	prog := newProgress(stderr, "restore", m.RawBytes)
	start := time.Now()
	_, res, err := artefact.RestoreInto(ctx, st, prefix, artefact.RestoreOptions{Key: key}, eng,
		engine.RestoreSpec{Method: m.Engine.Method, Log: stderr, Progress: prog.update})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup restore: %v\n", secret.Guard(err, secrets))
		return exitFail
	}
	prog.done()
	if *asJSON {
		return writeJSON(stdout, restoreReport{ArtefactPath: *path, JobID: m.JobID, Engine: string(m.Engine.Kind), Databases: res.Databases, RawBytes: m.RawBytes, Seconds: time.Since(start).Seconds()})
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", *path, *dbURL)
	return exitOK
}
