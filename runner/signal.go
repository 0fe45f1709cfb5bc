package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Kick asks the runner to call Notify soon, without a job transition: a
// hook that changed what its own unit must do next (the leader's table)
// cannot trigger a hook on its own unit, but the runner can, once the hook
// has ended. Kicks coalesce.
func (j Journal) Kick() error {
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot kick the runner: %w", err)
	}
	if err := os.WriteFile(filepath.Join(j.Dir, "kick"), nil, 0o600); err != nil {
		return fmt.Errorf("cannot kick the runner: %w", err)
	}
	return nil
}

// kicked removes a pending kick and reports whether there was one.
func (j Journal) kicked() bool {
	return os.Remove(filepath.Join(j.Dir, "kick")) == nil
}

// Health is the runner's last check of the database.
type Health struct {
	// OK is true when the last check passed.
	OK bool `json:"ok"`
	// Message is the check's error, for a person.
	Message string `json:"message,omitempty"`
	// Checked is when.
	Checked time.Time `json:"checked"`
}

func (j Journal) healthPath() string { return filepath.Join(j.Dir, "health.json") }

// Health returns the last health check; ok is false before the first.
func (j Journal) Health() (Health, bool) {
	data, err := os.ReadFile(j.healthPath())
	if err != nil {
		return Health{}, false
	}
	var h Health
	if json.Unmarshal(data, &h) != nil {
		return Health{}, false
	}
	return h, true
}

func (j Journal) setHealth(h Health) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return writeFileAtomic(j.healthPath(), data)
}
