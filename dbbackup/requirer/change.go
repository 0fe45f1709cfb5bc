package requirer

import (
	"fmt"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// ChangeKind says what Merge did or declined to do.
type ChangeKind string

// The kinds of change.
const (
	// Started: a waiting job is now running.
	Started ChangeKind = "started"
	// Moved: a running job is now reported by another unit.
	Moved ChangeKind = "moved"
	// Finished: a job reached success or error.
	Finished ChangeKind = "finished"
	// MarkedLost: a job reached lost.
	MarkedLost ChangeKind = "lost"
	// Ignored: a report was not used (unknown job id, other job type,
	// disagreeing with a terminal status, or beaten by another unit's report).
	Ignored ChangeKind = "ignored"
)

// Change is one thing Merge did or declined to do, for the charm's log.
type Change struct {
	// Kind is what happened.
	Kind ChangeKind
	// JobID is the job concerned.
	JobID string
	// Application is the related application.
	Application string
	// Unit is the unit whose report caused the change, if any.
	Unit string
	// From and To are the statuses before and after (equal when ignored).
	From, To dbbackup.Status
	// Note explains the change in words.
	Note string
}

// String formats c for a log line. It holds no credential: reports are
// read only for ids, statuses and units.
func (c Change) String() string {
	s := fmt.Sprintf("job %s of %s: %s", c.JobID, c.Application, c.Kind)
	if c.From != c.To {
		s += fmt.Sprintf(" (%s -> %s)", c.From, c.To)
	}
	if c.Unit != "" {
		s += " by " + c.Unit
	}
	if c.Note != "" {
		s += ": " + c.Note
	}
	return s
}
