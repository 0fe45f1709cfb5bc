package backupagent

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gruyaume/goops"
)

// SetRelationData writes data into this unit's databag (or, with app,
// its application's) on relation id through "relation-set --file": a
// jobs list of 1,000 jobs is larger than one command-line argument may be
// (128 KiB on Linux), which goops.SetUnitRelationData passes it as.
func SetRelationData(id string, app bool, data map[string]string) error {
	body, err := json.Marshal(data) // JSON is YAML, which --file reads
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "relation-set-*.json")
	if err != nil {
		return fmt.Errorf("cannot write relation data: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		f.Close()
		return fmt.Errorf("cannot write relation data: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write relation data: %w", err)
	}
	args := []string{"-r=" + id, "--file", f.Name()}
	if app {
		args = append(args, "--app")
	}
	if _, err := goops.GetCommandRunner().Run("relation-set", args...); err != nil {
		return fmt.Errorf("cannot write relation data: %w", err)
	}
	return nil
}
