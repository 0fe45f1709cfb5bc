// Package dbbackup is the wire model of the database_backup v0 relation
// interface: jobs as the requirer (backup manager) requests them and as the
// provider (database) reports them, their parsing, validation and writing.
package dbbackup

import (
	"encoding/json"
	"fmt"
)

// JobType is what a job does.
type JobType string

// The job types of v0.
const (
	Backup  JobType = "backup"
	Restore JobType = "restore"
)

// Side says which party wrote a databag: the rules differ per side.
type Side string

// The two sides of the relation.
const (
	// Requirer is the backup manager: it requests jobs in its application databag.
	Requirer Side = "requirer"
	// Provider is the database: it reports jobs in the unit databag of the unit that ran them.
	Provider Side = "provider"
)

// StorageS3 is the only storage interface of v0.
const StorageS3 = "s3"

// JobConfig is a job's job-config object.
type JobConfig struct {
	// Compression asks for compressed artefacts.
	Compression bool
}

// Job is one job as requested by the requirer or reported by the provider.
type Job struct {
	// ID is the job-id, unique within a databag.
	ID string
	// Type is the job-type.
	Type JobType
	// Config is the job-config; nil when absent (allowed on the provider side).
	Config *JobConfig
	// StorageInterface is the storage-interface ("s3").
	StorageInterface string
	// Storage is the storage-config.
	Storage StorageConfig
	// ArtefactPath is where the backup files and logs are (artefact-path).
	ArtefactPath string
	// Status is the reported status (provider side only).
	Status Status
	// Message is the reported message (provider side only).
	Message string
	// Extra holds the job's fields this version does not know (and, on the
	// requirer side, status and message), as compact JSON, written back unchanged.
	Extra map[string]json.RawMessage
}

// Redacted returns a copy of j whose credentials are replaced by Mask.
func (j Job) Redacted() Job {
	j.Storage = j.Storage.Redacted()
	return j
}

// Format prints j with its credentials masked, whatever the verb. The job
// masks them itself because fmt calls no method of what it prints after a
// verb that does not fit (a *Job inside a struct printed with %s).
func (j Job) Format(f fmt.State, verb rune) {
	type plain Job // j's fields without this method
	p := plain(j.Redacted())
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "%#v", p)
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%+v", p)
	default:
		fmt.Fprintf(f, "%v", p)
	}
}
