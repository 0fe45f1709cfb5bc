package provider

import "fmt"

// EventKind names a decision of Assign.
type EventKind string

// The decisions Assign logs. A job in a steady state logs nothing.
const (
	// EventNew: a requested job was seen for the first time; it waits.
	EventNew EventKind = "new"
	// EventInvalid: a request has problems; its unit reports it as error.
	EventInvalid EventKind = "invalid"
	// EventSkipped: an entry without a usable job-id, or a later duplicate
	// of a job-id, is not assigned (its problems are in Text).
	EventSkipped EventKind = "skipped"
	// EventReleased: a job was released to a unit, which may start it.
	EventReleased EventKind = "released"
	// EventStarted: the unit acknowledged the job; it is cleared to start.
	EventStarted EventKind = "started"
	// EventFinished: the unit reported the job success or error.
	EventFinished EventKind = "finished"
	// EventReassigned: the unit departed before starting the job; the job
	// waits again, in its place in the requirer's order, and is released
	// to a live unit by the same rules.
	EventReassigned EventKind = "reassigned"
	// EventFailed: the unit departed while running the job; it is error.
	EventFailed EventKind = "failed"
	// EventMoved: the unit that reports a finished job departed; another
	// unit reports it now.
	EventMoved EventKind = "moved"
	// EventAdopted: a unit reports a job the table did not hold (a lost
	// table); the job is assigned to that unit.
	EventAdopted EventKind = "adopted"
	// EventRemoved: a job the requirer no longer lists left the table.
	EventRemoved EventKind = "removed"
)

// Event is one decision of Assign, for the charm's log.
type Event struct {
	// Kind is the decision.
	Kind EventKind
	// JobID is the job concerned; empty for a skipped entry without one.
	JobID string
	// Unit is the unit concerned, if any.
	Unit string
	// Text explains the decision.
	Text string
}

// String formats the event as one log line.
func (e Event) String() string {
	s := string(e.Kind)
	if e.JobID != "" {
		s += fmt.Sprintf(" job %q", e.JobID)
	}
	if e.Unit != "" {
		s += " unit " + e.Unit
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}
