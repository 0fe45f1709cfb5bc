package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusals(t *testing.T) {
	tests := []struct {
		argv    []string
		env     map[string]string
		wantErr string
	}{
		{[]string{"/x/juju-exec", "a/0", "true"}, map[string]string{"JUJU_CONTEXT_ID": "a/0-install-1"}, "cannot be called from within a hook"},
		{[]string{"relation-get"}, map[string]string{"JUJU_AGENT_SOCKET_ADDRESS": ""}, "no jujusim agent socket"},
		{[]string{"is-leader"}, map[string]string{"JUJU_AGENT_SOCKET_ADDRESS": "/nonexistent/agent.socket"}, "cannot connect to jujusim agent"},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		var stdout, stderr bytes.Buffer
		if code := run(tt.argv, strings.NewReader(""), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tt.wantErr) {
			t.Errorf("run(%q) = %d, stderr %q, want %q", tt.argv, code, stderr.String(), tt.wantErr)
		}
	}
}

func TestWantsStdin(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"--file", "-"}, true},
		{[]string{"--file=-"}, true},
		{[]string{"--file", "x.yaml"}, false},
		{[]string{"-", "a/0"}, false},
	}
	for _, tt := range tests {
		if got := wantsStdin(tt.args); got != tt.want {
			t.Errorf("wantsStdin(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestRunAsItself(t *testing.T) {
	tests := []struct {
		argv       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{[]string{"/bin/jujuc", "--help"}, 0, "Usage: TOOL", ""},
		{[]string{"jujuc", "-h"}, 0, "Usage: TOOL", ""},
		{[]string{"jujuc"}, 2, "", "Usage: TOOL"},
		{[]string{"jujuc", "relation-get"}, 2, "", "Usage: TOOL"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.argv, strings.NewReader(""), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) ||
			(tt.wantStdout == "" && stdout.Len() > 0) || (tt.wantStderr == "" && stderr.Len() > 0) {
			t.Errorf("run(%q) = %d\nstdout %s\nstderr %s", tt.argv, code, stdout.String(), stderr.String())
		}
	}
}

// endless is a standard input that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

func TestEndlessStandardInputIsRefused(t *testing.T) {
	t.Setenv("JUJU_CONTEXT_ID", "a/0-install-1")
	t.Setenv("JUJU_AGENT_SOCKET_ADDRESS", "/nonexistent/agent.socket")
	var stdout, stderr bytes.Buffer
	code := run([]string{"relation-set", "--file", "-"}, endless{}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "standard input is larger than 16.0 MiB") {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}
