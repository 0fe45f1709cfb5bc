package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJobs(t *testing.T) {
	code, out, errOut := runCLI(t, "", "jobs", "../../internal/bagfile/testdata/show-unit-manager.yaml")
	if code != 0 {
		t.Fatalf("code %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"JOB ID", "another-unique-job-id  restore  error", "mysql/0", "MySQL charm in blocked state",
		"unique-job-id  backup  success  mysql/1  /path/to/backups-and-logs/",
	} {
		if !strings.Contains(squeeze(out), squeeze(want)) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Two snapshots: the provider's shows the request (and a canary credential).
	code, out, _ = runCLI(t, "", "jobs", "--format", "json", "../../internal/bagfile/testdata/show-unit-provider.yaml")
	var rows []jobRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("code %d, output:\n%s", code, out)
	}
	if strings.Contains(out, "CANARY") {
		t.Fatalf("a credential was printed:\n%s", out)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.JobID] = r.Status + "@" + r.Unit
	}
	if got["unique-job-id"] != "running@mysql/1" {
		t.Fatalf("rows = %v, want unique-job-id running on mysql/1", got)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "--format", "xml", "-"}, 2, "--format must be table or json"},
		{[]string{"jobs"}, 2, "want at least one FILE"},
		{[]string{"jobs", "/nonexistent"}, 2, "cannot read"},
		{[]string{"jobs", "--help"}, 0, "Usage: dbbackup jobs"},
	} {
		code, out, errOut := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: code %d, output %s%s; want %d and %q", c.args, code, out, errOut, c.code, c.want)
		}
	}
}

// squeeze collapses runs of spaces, so table columns compare as text.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestJobsScrubsAOneLetterSecret: a one-letter secret key is masked where
// it stands alone in a unit's message and nowhere else.
func TestJobsScrubsAOneLetterSecret(t *testing.T) {
	doc, err := os.ReadFile("../../internal/bagfile/testdata/show-unit-provider.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(doc), `"secret-key": "CANARY-SK"`, `"secret-key": "x"`, 1)
	text = strings.Replace(text, `"status":"running"}`, `"status":"error","message":"cannot restore job-does-not-exist: secret x refused"}`, 1)
	if !strings.Contains(text, `"secret-key": "x"`) || !strings.Contains(text, "job-does-not-exist") {
		t.Fatal("the fixture changed; this test no longer sets what it tests")
	}
	file := filepath.Join(t.TempDir(), "show-unit.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "jobs", "--format", "json", file)
	var rows []jobRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("code %d\n%s%s", code, out, errOut)
	}
	for _, r := range rows {
		if r.JobID == "unique-job-id" {
			if want := "cannot restore job-does-not-exist: secret *** refused"; r.Message != want {
				t.Fatalf("message %q, want %q", r.Message, want)
			}
			return
		}
	}
	t.Fatalf("no row for unique-job-id: %s", out)
}
