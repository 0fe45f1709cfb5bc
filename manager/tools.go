package manager

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// setAppData writes data into the application databag of relation id
// through relation-set --file -, so that values (a job's credentials) never
// appear on a command line. An empty value deletes its key.
func setAppData(id string, data map[string]string) error {
	if len(data) == 0 {
		return nil
	}
	doc, err := yaml.Marshal(data)
	if err != nil {
		return fmt.Errorf("cannot encode relation data for %s", id)
	}
	cmd := exec.Command("relation-set", "-r", id, "--app", "--file", "-")
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot write the application data of relation %s: %s", id, firstLine(stderr.String(), err))
	}
	return nil
}

// firstLine returns the first line of a tool's error output, or err.
func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// changedKeys returns the keys of want whose values differ from have, with
// the value to write (empty to delete), for keys in keys only.
func changedKeys(have, want map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if have[k] != want[k] {
			out[k] = want[k]
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
