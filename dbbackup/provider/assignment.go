package provider

import "github.com/dbbackup/dbbackup/dbbackup"

// State is where a job stands in the leader's assignment table.
type State string

// The states of an assignment. Only Released and Running hold a lock.
const (
	// Waiting: the job is known but not released; no unit runs it and no
	// unit reports it (v0 has no "waiting" status). It has no unit yet.
	Waiting State = "waiting"
	// Released: the job is released to its unit, which acknowledges it
	// (peer status dbbackup.Accepted) but does not start it yet; it holds its lock
	// from this moment until its unit reports it terminal. If the unit
	// departs now, the job has certainly not started.
	Released State = "released"
	// Running: the leader has seen the unit acknowledge the job (or report
	// it running); the unit starts it. From now on the job may be running.
	Running State = "running"
	// Done: the leader has seen the unit report the job terminal; Outcome
	// holds that report, so that it survives the unit's departure.
	Done State = "done"
	// Settled: the leader decided the outcome (an invalid request, a unit
	// that departed while running the job, or the report of a departed
	// unit carried over); the unit reports Outcome without running anything.
	Settled State = "settled"
)

// holdsLock reports whether a job in state s blocks incompatible jobs.
func (s State) holdsLock() bool { return s == Released || s == Running }

// Outcome is a terminal result recorded in the assignment table.
type Outcome struct {
	// Status is success or error.
	Status dbbackup.Status `json:"status"`
	// Message explains an error (or carries the unit's message).
	Message string `json:"message,omitempty"`
	// ArtefactPath is where the job's artefacts are, when known.
	ArtefactPath string `json:"artefact-path,omitempty"`
}

// Assignment is one row of the leader's assignment table.
type Assignment struct {
	// JobID is the requirer's job-id.
	JobID string `json:"job-id"`
	// Type is the job's type; kept so that a job the requirer no longer
	// lists still holds the right lock.
	Type dbbackup.JobType `json:"job-type"`
	// State is where the job stands.
	State State `json:"state"`
	// Unit is the one unit that runs and reports the job; empty while Waiting.
	Unit string `json:"unit,omitempty"`
	// Outcome is set in the Done and Settled states only.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Assignments is the leader's assignment table: the requirer's jobs in its
// list order, then the jobs it no longer lists that still hold a lock,
// ordered by job-id. Assign always returns it in this order.
type Assignments []Assignment

// Find returns the assignment of a job, if any.
func (as Assignments) Find(jobID string) (Assignment, bool) {
	for _, a := range as {
		if a.JobID == jobID {
			return a, true
		}
	}
	return Assignment{}, false
}

// byID indexes the table by job-id (the first row wins; ParseAssignments
// rejects duplicates).
func (as Assignments) byID() map[string]Assignment {
	m := make(map[string]Assignment, len(as))
	for _, a := range as {
		if _, dup := m[a.JobID]; !dup {
			m[a.JobID] = a
		}
	}
	return m
}
