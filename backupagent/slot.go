package backupagent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/runner"
)

// slotReleaseValue records the last attempt to drop the replication slot
// after archive-logs went off.
const slotReleaseValue = "slot-release.json"

// slotRelease is that attempt.
type slotRelease struct {
	At      time.Time `json:"at"`
	Dropped bool      `json:"dropped,omitempty"`
	// InUse: a client streams through the slot (another archiver), so
	// it was left.
	InUse bool   `json:"in-use,omitempty"`
	Error string `json:"error,omitempty"`
}

// Bounds of the release: each attempt's time, and the pause before the
// next one after a failure.
var (
	releaseTimeout = 30 * time.Second
	releaseRetry   = time.Minute
)

// releaser drops the WAL archiver's replication slot, and its spool, once
// archive-logs is off. A slot nobody streams from keeps every WAL segment
// on the server from its position on, until the server's disk is full:
// with archiving off, nobody will. The archive keeps what it has; turned
// on again, the archiver makes a new slot at the server's position, and
// restores to a time after that need a new physical backup (the windows
// say so).
type releaser struct {
	done  bool
	next  time.Time
	tries int
}

// step drops the slot when the journal asks for it, this unit ran the
// WAL archiver (its spool is in the journal) and it was not done since
// the archiver last ran; it retries after releaseRetry.
func (r *releaser) step(ctx context.Context, j runner.Journal, log io.Writer) {
	if r.done || time.Now().Before(r.next) || !readArchiving(j).Release {
		return
	}
	db, err := ReadDatabase(j)
	if err != nil {
		r.next = time.Now().Add(releaseRetry)
		return
	}
	if db.Engine != engine.PostgreSQL {
		r.done = true // binary logs: the server purges them on its own schedule
		return
	}
	if _, err := os.Stat(filepath.Join(j.Dir, walSpool)); os.IsNotExist(err) {
		// This unit never ran the WAL archiver (or released it): no
		// query, and no warning on a unit that never archived.
		r.done = true
		return
	}
	db.Database = ""
	eng, err := db.Open()
	if err != nil {
		r.next = time.Now().Add(releaseRetry)
		return
	}
	actx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	inUse, err := eng.(*postgres.Engine).DropSlot(actx, walSlot)
	if ctx.Err() != nil {
		return
	}
	rec := slotRelease{At: time.Now().UTC(), InUse: inUse}
	switch {
	case err != nil:
		rec.Error = oneLine(secret.Scrub(err.Error(), []string{db.Password}))
	case !inUse:
		// The spool's WAL follows the dropped slot: a later archiver
		// starts from a new slot at the server's position.
		if err := os.RemoveAll(filepath.Join(j.Dir, walSpool)); err != nil {
			rec.Error = fmt.Sprintf("cannot remove the WAL spool: %v", err)
			break
		}
		_ = os.Remove(filepath.Join(j.Dir, archiverLagValue))
		rec.Dropped = true
	}
	if _, err := j.SetValue(slotReleaseValue, rec); err != nil {
		fmt.Fprintf(log, "%v\n", err)
	}
	if rec.Dropped {
		fmt.Fprintf(log, "archive-logs is off: replication slot %s dropped (if it existed), WAL spool removed\n", walSlot)
		r.done = true
		return
	}
	// In use just after the archiver stopped: the server ends its
	// walsender a moment after pg_receivewal; try again soon at first.
	wait := releaseRetry
	if r.tries++; inUse && r.tries <= 6 {
		wait = min(wait, 5*time.Second)
	}
	fmt.Fprintf(log, "archive-logs is off: replication slot %s not dropped (in use %v, %s); trying again in %s\n", walSlot, inUse, rec.Error, wait)
	r.next = time.Now().Add(wait)
}

// releaseWarning is the status's warning when the slot could not be
// dropped after archive-logs went off.
func releaseWarning(j runner.Journal) string {
	var rec slotRelease
	if j.Value(slotReleaseValue, &rec) != nil {
		return ""
	}
	switch {
	case rec.Error != "":
		return fmt.Sprintf("warning: cannot drop replication slot %s, which keeps WAL on the server while archive-logs is off: %s", walSlot, rec.Error)
	case rec.InUse:
		return fmt.Sprintf("warning: replication slot %s, which keeps WAL on the server, is in use by another client while archive-logs is off", walSlot)
	}
	return ""
}
