// Package metrics serves the backup metrics in Prometheus's exposition
// format and builds what COS needs to read them: the cos_agent relation
// data (scrape jobs, alert rules, dashboards), the alert rules and the
// Grafana dashboard.
//
// The processes that run outside hooks (the manager's schedule ticker, the
// agent's runner) own a State, replace its Snapshot whenever their facts
// change, and run Serve beside their loop. A scrape only reads the last
// snapshot: it never lists a bucket or reads a databag, so its cost does
// not depend on the number of backups held.
package metrics

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/provider"
)

// MaxApps bounds the applications (or units) one snapshot may describe.
const MaxApps = 1000

// ErrInvalidSnapshot is wrapped by every refusal of Snapshot.Validate.
var ErrInvalidSnapshot = errors.New("invalid metrics snapshot")

// Snapshot is everything one process knows and serves at one moment.
type Snapshot struct {
	// Apps holds one entry per database application (the manager's view)
	// or per unit (the agent's view: Unit set).
	Apps []App
}

// App is what is known of one database application, or of one of its
// units when Unit is set.
type App struct {
	// Application is the database application's Juju name ("postgresql").
	Application string
	// Unit is the unit's Juju name ("postgresql/0") for a unit's facts;
	// empty for the application's.
	Unit string
	// LastSuccess is the end of the last successful backup; zero if none
	// is known.
	LastSuccess time.Time
	// Last holds the last finished job of each type (at most one backup
	// and one restore).
	Last []Job
	// Counts holds the finished jobs counted since the process started
	// or since it first knew of them, by type and outcome.
	Counts []Count
	// NextBackup is the next scheduled backup's due time; zero without a
	// schedule.
	NextBackup time.Time
	// MaxAge is how old the last successful backup may grow before the
	// BackupTooOld alert fires (see Threshold); zero disables the alert.
	MaxAge time.Duration
	// Bucket is what the bucket held at the last listing; nil if unknown.
	Bucket *Bucket
	// Storage is the result of the last attempt to reach the storage; nil
	// if none was made.
	Storage *StorageCheck
}

// Job is one finished job.
type Job struct {
	// Type is backup or restore.
	Type dbbackup.JobType
	// Outcome is success or error.
	Outcome dbbackup.Status
	// Started and Ended bound the job's run.
	Started, Ended time.Time
	// RawBytes is the size of the database's stream; StoredBytes what the
	// bucket holds of it (compressed, framed). Zero when unknown.
	RawBytes, StoredBytes int64
}

// Count is the number of finished jobs of one type and outcome, and
// their summed run time.
type Count struct {
	Type    dbbackup.JobType
	Outcome dbbackup.Status
	// Jobs is the number of jobs; it only grows while the process runs.
	Jobs uint64
	// Seconds is the jobs' run time added up.
	Seconds float64
}

// Bucket is what a listing of one application's backups found.
type Bucket struct {
	// Backups is the number of complete backups held.
	Backups int
	// StoredBytes is their total size in the bucket.
	StoredBytes int64
	// Listed is when the listing was made.
	Listed time.Time
}

// StorageCheck is the result of one attempt to reach the storage.
type StorageCheck struct {
	// Reachable is true when the storage answered.
	Reachable bool
	// Checked is when the attempt was made.
	Checked time.Time
}

// Validate checks every name and number against what may appear in a
// label or a sample: Juju names, the two job types, the two final
// outcomes, no negative size or count, no duplicate series. Only these
// travel to Prometheus, so no free text (and no secret) can.
func (s Snapshot) Validate() error {
	if len(s.Apps) > MaxApps {
		return fmt.Errorf("%w: %d apps, at most %d", ErrInvalidSnapshot, len(s.Apps), MaxApps)
	}
	seen := make(map[string]bool, len(s.Apps))
	for i, a := range s.Apps {
		if err := a.validate(); err != nil {
			return fmt.Errorf("%w: apps[%d]: %v", ErrInvalidSnapshot, i, err)
		}
		key := a.Application + " " + a.Unit
		if seen[key] {
			return fmt.Errorf("%w: apps[%d]: application %q unit %q given twice", ErrInvalidSnapshot, i, a.Application, a.Unit)
		}
		seen[key] = true
	}
	return nil
}

func (a App) validate() error {
	if !ValidAppName(a.Application) {
		return fmt.Errorf("application: not a Juju application name: %q", clip(a.Application))
	}
	if a.Unit != "" && (!provider.ValidUnitName(a.Unit) || !strings.HasPrefix(a.Unit, a.Application+"/")) {
		return fmt.Errorf("unit: not a unit of %q: %q", a.Application, clip(a.Unit))
	}
	if a.MaxAge < 0 {
		return fmt.Errorf("max-age: negative: %v", a.MaxAge)
	}
	types := map[dbbackup.JobType]bool{}
	for i, j := range a.Last {
		if err := validKind(j.Type, j.Outcome); err != nil {
			return fmt.Errorf("last[%d]: %v", i, err)
		}
		if types[j.Type] {
			return fmt.Errorf("last[%d]: a second last %s job", i, j.Type)
		}
		types[j.Type] = true
		if j.RawBytes < 0 || j.StoredBytes < 0 {
			return fmt.Errorf("last[%d]: negative size", i)
		}
		if j.Ended.Before(j.Started) {
			return fmt.Errorf("last[%d]: ended before it started", i)
		}
	}
	kinds := map[[2]string]bool{}
	for i, c := range a.Counts {
		if err := validKind(c.Type, c.Outcome); err != nil {
			return fmt.Errorf("counts[%d]: %v", i, err)
		}
		k := [2]string{string(c.Type), string(c.Outcome)}
		if kinds[k] {
			return fmt.Errorf("counts[%d]: %s %s counted twice", i, c.Type, c.Outcome)
		}
		kinds[k] = true
		if !(c.Seconds >= 0) {
			return fmt.Errorf("counts[%d]: seconds: not a non-negative number", i)
		}
	}
	if a.Bucket != nil && (a.Bucket.Backups < 0 || a.Bucket.StoredBytes < 0) {
		return errors.New("bucket: negative count or size")
	}
	return nil
}

func validKind(t dbbackup.JobType, s dbbackup.Status) error {
	if t != dbbackup.Backup && t != dbbackup.Restore {
		return fmt.Errorf("type: must be %q or %q, got %q", dbbackup.Backup, dbbackup.Restore, clip(string(t)))
	}
	if s != dbbackup.Success && s != dbbackup.Error {
		return fmt.Errorf("outcome: must be %q or %q, got %q", dbbackup.Success, dbbackup.Error, clip(string(s)))
	}
	return nil
}

// ValidAppName reports whether name is a Juju application name such as
// "postgresql".
func ValidAppName(name string) bool {
	return len(name) <= 63 && provider.ValidUnitName(name+"/0") && name[len(name)-1] != '-'
}

// clip shortens a refused value for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// outcomes are the final outcomes a job's labels may carry.
var outcomes = []dbbackup.Status{dbbackup.Success, dbbackup.Error}
