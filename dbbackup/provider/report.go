package provider

import (
	"sort"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Report is what a unit says about one of its jobs in its own peer unit
// databag, for the leader to read: the mirror of its runner's state. It never
// holds storage configuration or credentials.
type Report struct {
	// JobID is the job's job-id.
	JobID string `json:"job-id"`
	// Type is the job's type, so that a running job holds the right lock
	// even when the assignment table has lost it.
	Type dbbackup.JobType `json:"job-type"`
	// Status is accepted, running, success or error (dbbackup.Accepted is
	// peer-only: it never appears on the database_backup relation).
	Status dbbackup.Status `json:"status"`
	// Message explains an error.
	Message string `json:"message,omitempty"`
	// ArtefactPath is where the job's artefacts are.
	ArtefactPath string `json:"artefact-path,omitempty"`
}

// outcome returns the terminal result of r.
func (r Report) outcome() *Outcome {
	return &Outcome{Status: r.Status, Message: r.Message, ArtefactPath: r.ArtefactPath}
}

// RunState is what a unit's runner knows about one job. The zero value
// (empty Status) means the runner has not started the job.
type RunState struct {
	// Type is the job's type.
	Type dbbackup.JobType
	// Status is running, success, error, or empty for not started.
	Status dbbackup.Status
	// Message explains an error.
	Message string
	// ArtefactPath is where the job's artefacts are.
	ArtefactPath string
}

// Started reports whether the runner has started the job.
func (r RunState) Started() bool { return r.Status != "" }

// sortByID orders reports by job-id.
func sortByID(rs []Report) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].JobID < rs[j].JobID })
}
