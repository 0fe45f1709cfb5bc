package main

import (
	"errors"
	"fmt"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/store"
)

const walFetchAbout = `
Fetches one archived WAL file for PostgreSQL's recovery: it is the
restore_command that 'dbbackup restore --pgdata' writes into the restored
postgresql.auto.conf, and runs as the server's user. NAME is the file
PostgreSQL asks for (%f: a segment or a timeline history file) and DEST
where to put it (%p, relative to the data directory). A segment archived
only in part (the archiver's last upload before the restore) is given
when the whole one is not there. Every frame is verified before its bytes
are written; DEST appears only once the whole file was verified.

Exit codes: 0 fetched; 1 no such file in the archive (PostgreSQL takes it
for the end of the archive); 2 unusable command line; 126 the file exists
but could not be fetched or verified (damaged, wrong key, store
unreachable): an exit above 125 makes PostgreSQL stop the recovery instead
of ending it early at a point the archive goes beyond.`

// exitFetchFailed is wal-fetch's exit code for a file that exists but
// could not be fetched: above 125, so that PostgreSQL aborts the recovery.
const exitFetchFailed = 126

func runWALFetch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("wal-fetch", "--storage-config FILE --scope NAME [--encryption-key-file FILE] NAME DEST", walFetchAbout, stderr)
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	scope := fs.String("scope", "", "the scope the WAL was archived under (required)")
	keyFile := fs.String("encryption-key-file", "", "file holding the key of an encrypted archive")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if fs.NArg() != 2 {
		return usageError(stderr, "wal-fetch", fmt.Errorf("want two arguments, NAME and DEST, got %d", fs.NArg()))
	}
	name, dest := fs.Arg(0), fs.Arg(1)
	if err := pitr.CheckWALFileName(name); err != nil {
		return usageError(stderr, "wal-fetch", err)
	}
	if *scope == "" {
		return usageError(stderr, "wal-fetch", fmt.Errorf("--scope is required"))
	}
	if err := checkScope(*scope); err != nil {
		return usageError(stderr, "wal-fetch", err)
	}
	st, cfg, err := openStore(*cfgPath)
	if err != nil {
		return usageError(stderr, "wal-fetch", err)
	}
	var key []byte
	if *keyFile != "" {
		if key, err = artefact.ReadKeyFile(*keyFile); err != nil {
			return usageError(stderr, "wal-fetch", err)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	arch := pitr.Archive{Store: st, Scope: *scope, Key: key}.WAL()
	partial, err := pitr.FetchWAL(ctx, arch, name, dest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(stderr, "dbbackup wal-fetch: %s is not in the archive\n", name)
		return exitFail
	case err != nil:
		fmt.Fprintf(stderr, "dbbackup wal-fetch: cannot fetch %s%s: %v\n", name, map[bool]string{true: " (partial)"}[partial], secret.Scrub(err.Error(), cfg.Secrets()))
		return exitFetchFailed
	}
	return exitOK
}
