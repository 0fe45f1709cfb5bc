package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{nil, -1, "", ""},
		{[]string{"--help"}, 0, "Usage: demo", ""},
		{[]string{"-h"}, 0, "Usage: demo", ""},
		{[]string{"--frob"}, 2, "", `unexpected argument(s) ["--frob"]`},
		{[]string{"--help", "x"}, 2, "", "Usage: demo"},
		{[]string{"shell"}, 2, "", `unexpected argument(s) ["shell"]`},
		{[]string{"shell", ""}, 2, "", "Usage: demo"},
		{[]string{"shell", "a", "b"}, 2, "", "Usage: demo"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := usage(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) ||
			(tt.wantStdout == "" && stdout.Len() > 0) || (tt.wantStderr == "" && stderr.Len() > 0) {
			t.Errorf("usage(%q) = %d\nstdout %s\nstderr %s", tt.args, code, stdout.String(), stderr.String())
		}
	}
}
