package backupagent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// WALFetchCommand is the first argument that makes a charm binary the
// restore_command of a PostgreSQL restore to a time (see WALFetchMain).
const WALFetchCommand = "wal-fetch"

// fetchJobValue is the restore job a restore's stage folder keeps for
// wal-fetch: its storage, credentials and keys (0600, in a 0700 folder
// of the server's user).
const fetchJobValue = "fetch-job.json"

// Exit codes of wal-fetch, as PostgreSQL reads them: 1 ends the recovery
// at the end of the archive; above 125 stops the server instead of
// ending early at a point the archive goes beyond.
const (
	fetchNotFound = 1
	fetchUsage    = 2
	fetchFailed   = 126
)

// WALFetchMain is the restore_command of a restore to a time: args are
// "--state DIR --scope S NAME DEST". It fetches the archived WAL file NAME
// of scope S, verified, into DEST (relative to the data directory, where
// the server runs it), with the storage and keys of the restore job kept
// in the stage folder DIR. It returns the exit code.
func WALFetchMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(WALFetchCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the restore's stage folder")
	scope := fs.String("scope", "", "the scope the WAL was archived under")
	if err := fs.Parse(args); err != nil {
		return fetchUsage
	}
	if *state == "" || *scope == "" || fs.NArg() != 2 {
		fmt.Fprintln(stderr, "wal-fetch: --state, --scope, NAME and DEST are required")
		return fetchUsage
	}
	name, dest := fs.Arg(0), fs.Arg(1)
	if err := pitr.CheckWALFileName(name); err != nil {
		fmt.Fprintf(stderr, "wal-fetch: %v\n", err)
		return fetchUsage
	}
	job, err := runner.Journal{Dir: *state}.JobValue(fetchJobValue)
	if err != nil {
		fmt.Fprintf(stderr, "wal-fetch: %v\n", err)
		return fetchFailed
	}
	secrets := job.Storage.Secrets()
	st, keys, err := jobArchive(job, s3.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "wal-fetch: %v\n", secret.Guard(err, secrets))
		return fetchFailed
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	arch := pitr.Archive{Store: st, Scope: *scope, Keys: keys}.WAL()
	partial, err := pitr.FetchWAL(ctx, arch, name, dest)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(stderr, "wal-fetch: %s is not in the archive\n", name)
		return fetchNotFound
	case err != nil:
		what := name
		if partial {
			what += " (partial)"
		}
		fmt.Fprintf(stderr, "wal-fetch: cannot fetch %s: %v\n", what, secret.Guard(err, secrets))
		return fetchFailed
	}
	return 0
}
