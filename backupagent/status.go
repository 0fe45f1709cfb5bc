package backupagent

import (
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"

	"github.com/dbbackup/dbbackup/runner"
)

// Status returns the workload status a person reads at a glance:
// "blocked" with the database check's reason while the database is
// unreachable, "active" with the running jobs' progress
// ("backup job-x 120 MB at 45 MB/s"), or "active" "idle"; then the log
// archiver's state and lag, and first a warning when its replication slot
// holds too much WAL on the server (still "active").
func Status(j runner.Journal, now time.Time) (goops.StatusName, string) {
	recs, err := j.Load()
	if err != nil {
		return goops.StatusBlocked, err.Error()
	}
	return StatusFrom(j, recs, now)
}

// StatusFrom is Status with the journal's records already read (as
// Result.Records), saving a second read of the journal in a hook.
func StatusFrom(j runner.Journal, recs []runner.Record, now time.Time) (goops.StatusName, string) {
	st, msg := jobStatus(j, recs, now)
	if st != goops.StatusActive {
		return st, msg
	}
	if a := archiverStatus(j, now); a != "" {
		msg += "; " + a
	}
	// A warning about the server's disk comes first: the status stays
	// active, jobs go on.
	if w := archiveWarning(j); w != "" {
		msg = w + "; " + msg
	}
	return st, msg
}

// archiveWarning is the warning about the replication slot the WAL
// archiver holds: it keeps too much WAL on the server, or it could not be
// dropped when archive-logs went off.
func archiveWarning(j runner.Journal) string {
	a := readArchiving(j)
	if a.On {
		l, ok := readLag(j)
		return slotWarning(l, ok, a.WarnRetained)
	}
	if a.Release {
		return releaseWarning(j)
	}
	return ""
}

// archiverStatus is the log archiver's part of the status: empty when
// this unit does not archive.
func archiverStatus(j runner.Journal, now time.Time) string {
	a := readArchiving(j)
	if !a.On {
		return a.Why
	}
	s := ReadArchiverState(j)
	last := "nothing uploaded yet"
	if !s.LastUpload.IsZero() {
		last = fmt.Sprintf("last upload %s (%s)", s.LastUpload.UTC().Format(time.RFC3339), s.LastFile)
	}
	switch {
	case s.Running:
		l, ok := readLag(j)
		return "archiving logs, " + lagText(l, ok, now) + ", " + last
	case s.LastError != "":
		return fmt.Sprintf("log archiver down (%d restarts): %s; %s", s.Restarts, s.LastError, last)
	}
	if _, err := j.JobValue(archiveJobValue); err != nil {
		return "archive-logs waits for a first backup (its storage)"
	}
	return "log archiver starting"
}

func jobStatus(j runner.Journal, recs []runner.Record, now time.Time) (goops.StatusName, string) {
	if h, ok := j.Health(); ok && !h.OK {
		return goops.StatusBlocked, h.Message
	}
	var running, waiting []runner.Record
	for _, r := range recs {
		switch r.Status {
		case dbbackup.Running:
			running = append(running, r)
		case dbbackup.Pending:
			waiting = append(waiting, r)
		}
	}
	switch {
	case len(running) > 0:
		msg := runner.Progress(running[0], now)
		if n := len(running) - 1 + len(waiting); n > 0 {
			msg += fmt.Sprintf(" (+%d more)", n)
		}
		return goops.StatusActive, msg
	case len(waiting) > 0:
		return goops.StatusActive, fmt.Sprintf("%d job(s) waiting", len(waiting))
	}
	return goops.StatusActive, "idle"
}
