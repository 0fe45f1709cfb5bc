package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// MsgInterrupted is the message of a job a runner left running when it died.
const MsgInterrupted = "interrupted (the runner stopped mid-job); nothing of it is restorable"

// Record is one job in the journal.
type Record struct {
	// JobID and Type name the job.
	JobID string           `json:"job-id"`
	Type  dbbackup.JobType `json:"job-type"`
	// Status is pending, running, success or error ("state" in the
	// file, as the previous version wrote it).
	Status dbbackup.Status `json:"state"`
	// Message explains an error, or shows progress while running.
	Message string `json:"message,omitempty"`
	// ArtefactPath is where a backup landed, or what a restore read.
	ArtefactPath string `json:"artefact-path,omitempty"`
	// Submitted, Started and Finished time the job, in UTC.
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	// Bytes counts the bytes of the stream so far; Total is the expected
	// total when known (a restore), else 0.
	Bytes int64 `json:"bytes,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Request is the job as requested, credentials included, as typed
	// fields (see Job): only the runner reads it. The file is 0600.
	Request request `json:"request"`
}

// Journal is the folder hooks and the runner share.
type Journal struct {
	// Dir is the folder; jobs live in Dir/jobs.
	Dir string
}

func (j Journal) jobsDir() string { return filepath.Join(j.Dir, "jobs") }

func (j Journal) path(id string) string { return filepath.Join(j.jobsDir(), id+".json") }

// Submit records a job for the runner, state pending. A job the journal
// already holds is left as it is, so submitting twice never runs twice.
// It reports whether the job was new.
func (j Journal) Submit(job dbbackup.Job, now time.Time) (bool, error) {
	if !dbbackup.ValidJobID(job.ID) {
		return false, fmt.Errorf("cannot submit job: invalid job-id %q", job.ID)
	}
	if _, err := os.Stat(j.path(job.ID)); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("cannot submit job %s: %w", job.ID, err)
	}
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return false, fmt.Errorf("cannot submit job %s: %w", job.ID, err)
	}
	r := Record{JobID: job.ID, Type: job.Type, Status: dbbackup.Pending, Submitted: now.UTC(), Request: request{job: job}}
	return true, j.Put(r)
}

// Refuse records job as failed with message before it ran, so that it is
// reported and never blocks the other jobs; the journal keeps the job with
// its credentials masked. A job the journal already holds is left as it
// is. It reports whether the job was new.
func (j Journal) Refuse(job dbbackup.Job, message string, now time.Time) (bool, error) {
	if !dbbackup.ValidJobID(job.ID) {
		return false, fmt.Errorf("cannot record job: invalid job-id %q", job.ID)
	}
	if _, err := os.Stat(j.path(job.ID)); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("cannot record job %s: %w", job.ID, err)
	}
	now = now.UTC()
	r := Record{JobID: job.ID, Type: job.Type, Status: dbbackup.Error, Message: message, Submitted: now, Finished: now,
		Request: request{job: job.Redacted()}}
	return true, j.Put(r)
}

// Put writes r atomically and durably.
func (j Journal) Put(r Record) error {
	if !dbbackup.ValidJobID(r.JobID) {
		return fmt.Errorf("cannot write job: invalid job-id %q", r.JobID)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cannot write job %s: %w", r.JobID, err)
	}
	// Not MkdirAll: a runner must never recreate a journal folder that was
	// removed under it (the unit is gone; the runner stops).
	if err := os.Mkdir(j.jobsDir(), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("cannot write job %s: %w", r.JobID, err)
	}
	if err := writeFileAtomic(j.path(r.JobID), data); err != nil {
		return fmt.Errorf("cannot write job %s: %w", r.JobID, err)
	}
	return nil
}

// Get reads one job.
func (j Journal) Get(id string) (Record, error) {
	data, err := os.ReadFile(j.path(id))
	if err != nil {
		return Record{}, fmt.Errorf("cannot read job %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("cannot read job %s: %w", id, err)
	}
	return r, nil
}

// Load reads every job, sorted by submission time then job-id. A missing
// folder is an empty journal.
func (j Journal) Load() ([]Record, error) {
	ents, err := os.ReadDir(j.jobsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the journal: %w", err)
	}
	var out []Record
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !dbbackup.ValidJobID(id) {
			continue // temporary files of an interrupted write
		}
		r, err := j.Get(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // forgotten meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].Submitted.Equal(out[b].Submitted) {
			return out[a].Submitted.Before(out[b].Submitted)
		}
		return out[a].JobID < out[b].JobID
	})
	return out, nil
}

// Forget removes a finished job from the journal. A job that is not
// terminal is kept: forgetting it could let it run twice.
func (j Journal) Forget(id string) error {
	r, err := j.Get(id)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Status.Terminal() {
		return fmt.Errorf("cannot forget job %s: it is %s", id, r.Status)
	}
	if err := os.Remove(j.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot forget job %s: %w", id, err)
	}
	return syncDir(j.jobsDir())
}

// writeFileAtomic replaces path with data: a temporary file in the same
// folder, fsync, rename, fsync of the folder. Readers see the old or the
// new content, never a part, even across a crash.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
