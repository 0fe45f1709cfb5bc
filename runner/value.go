package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// ErrNoValue is returned by Value for a name SetValue never wrote.
var ErrNoValue = errors.New("no such value in the journal")

// valueName is a value's file name: a lower-case word and ".json", never
// one of the journal's own files (health.json).
var valueName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}\.json$`)

func (j Journal) valuePath(name string) (string, error) {
	if !valueName.MatchString(name) || name == "health.json" {
		return "", fmt.Errorf("cannot use %q as a journal value: the name must be a lower-case word ending in .json", name)
	}
	return filepath.Join(j.Dir, name), nil
}

// SetValue records v as JSON in the journal folder's file name, atomically
// and durably, readable by this user only (0600): the agent's
// configuration the runner reads at the start of each job. It reports
// whether the content changed.
func (j Journal) SetValue(name string, v any) (bool, error) {
	path, err := j.valuePath(name)
	if err != nil {
		return false, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("cannot record %s: %w", name, err)
	}
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return false, nil
	}
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return false, fmt.Errorf("cannot record %s: %w", name, err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return false, fmt.Errorf("cannot record %s: %w", name, err)
	}
	return true, nil
}

// Value reads into v what SetValue recorded under name; ErrNoValue when
// nothing was.
func (j Journal) Value(name string, v any) error {
	path, err := j.valuePath(name)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoValue
	}
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	return nil
}

// SetJobValue records job under name like SetValue, credentials and all
// (the file is 0600, as the journal's records are): a job the runner
// keeps beyond the life of its record, such as the backup whose storage
// the log archiver writes to. It reports whether the content changed.
func (j Journal) SetJobValue(name string, job dbbackup.Job) (bool, error) {
	return j.SetValue(name, request{job: job})
}

// JobValue reads the job SetJobValue recorded under name; ErrNoValue when
// none was.
func (j Journal) JobValue(name string) (dbbackup.Job, error) {
	var r request
	if err := j.Value(name, &r); err != nil {
		return dbbackup.Job{}, err
	}
	if r.err != nil {
		return dbbackup.Job{}, fmt.Errorf("cannot read %s: %w", name, r.err)
	}
	if r.job.ID == "" {
		return dbbackup.Job{}, fmt.Errorf("cannot read %s: %w", name, errNoRequest)
	}
	return r.job, nil
}
