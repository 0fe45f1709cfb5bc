package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     []string
	}{
		{"published requirer example", []string{"validate", "--side", "requirer", "../../dbbackup/testdata/published-requirer.json"}, "", 0, []string{"valid: 1 requirer databag(s), 2 job(s)"}},
		{"published provider example", []string{"validate", "--side", "provider", "../../dbbackup/testdata/published-provider.json"}, "", 0, []string{"valid: 1 provider databag(s), 2 job(s)"}},
		{"seed requirer example is invalid JSON", []string{"validate", "--side", "requirer", "../../dbbackup/testdata/seed-requirer-invalid.json"}, "", 1, []string{"jobs: invalid JSON at byte 170 (line 7, column 13)"}},
		{"show-unit of a manager, provider side", []string{"validate", "--side", "provider", "../../internal/bagfile/testdata/show-unit-manager.yaml"}, "", 0, []string{"valid: 2 provider databag(s), 2 job(s)"}},
		{"show-unit of a provider, requirer side names where", []string{"validate", "--side", "requirer", "../../internal/bagfile/testdata/show-unit-provider.yaml"}, "", 1, []string{"application data seen by mysql/1 (relation 3, database-backup): jobs[1].storage-config.secret-key: required"}},
		{"show-unit with no databag of that side", []string{"validate", "--side", "requirer", "../../internal/bagfile/testdata/show-unit-manager.yaml"}, "", 1, []string{"no requirer databag with jobs found"}},
		{"stdin databag", []string{"validate", "--side", "provider", "-"}, `{"jobs": "[{\"job-id\":\"a\"}]"}`, 1, []string{"jobs[0].job-type: required", "jobs[0].status: required", "jobs[0].storage-config: required", "jobs[0].storage-interface: required"}},
		{"unknown side", []string{"validate", "--side", "both", "-"}, "", 2, []string{`--side must be requirer or provider, got "both"`}},
		{"unreadable file", []string{"validate", "--side", "provider", "/nonexistent/file"}, "", 2, []string{"cannot read /nonexistent/file"}},
		{"no file", []string{"validate", "--side", "provider"}, "", 2, []string{"want exactly one FILE"}},
		{"help", []string{"validate", "--help"}, "", 0, []string{"Usage: dbbackup validate --side requirer|provider FILE", "Exit codes"}},
		{"unknown command", []string{"frobnicate"}, "", 2, []string{`unknown command "frobnicate"`}},
		{"top help", []string{"--help"}, "", 0, []string{"validate", "jobs", "Exit codes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.stdin, c.args...)
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.wantCode, out, errOut)
			}
			all := out + errOut
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "CANARY") {
				t.Errorf("a credential was printed:\n%s", all)
			}
		})
	}
}
