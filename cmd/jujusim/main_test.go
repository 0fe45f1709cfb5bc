package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{nil, 2, "", "Usage: jujusim run"},
		{[]string{"run"}, 2, "", "Usage: jujusim run"},
		{[]string{"frob"}, 2, "", `unknown command "frob"`},
		{[]string{"run", "-frob", "x.yaml"}, 2, "", "flag provided but not defined: -frob"},
		{[]string{"run", "a.yaml", "b.yaml"}, 2, "", "Usage: jujusim run"},
		{[]string{"run", "missing.yaml"}, 1, "", "cannot read scenario"},
		{[]string{"run", "-timeline", "../../jujusim/testdata/scenario.yaml"}, 0, "related-units:", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
			t.Errorf("run(%q) = %d\nstdout %s\nstderr %s", tt.args, code, stdout.String(), stderr.String())
		}
	}
}
