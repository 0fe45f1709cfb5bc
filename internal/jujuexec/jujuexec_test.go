package jujuexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCleanEnvDropsTheHookContext(t *testing.T) {
	t.Setenv("JUJU_CONTEXT_ID", "unit-0-hook-1")
	t.Setenv("JUJU_HOOK_NAME", "update-status")
	t.Setenv("JUJU_UNIT_NAME", "manager/0")
	env := strings.Join(CleanEnv(), "\n")
	if strings.Contains(env, "JUJU_CONTEXT_ID=") || strings.Contains(env, "JUJU_HOOK_NAME=") {
		t.Errorf("hook context kept:\n%s", env)
	}
	if !strings.Contains(env, "JUJU_UNIT_NAME=manager/0") {
		t.Errorf("unit name dropped")
	}
}

// Start runs the command without the hook context, its output in the log.
func TestStart(t *testing.T) {
	t.Setenv("JUJU_CONTEXT_ID", "unit-0-hook-1")
	log := filepath.Join(t.TempDir(), "out.log")
	cmd, err := Start("/bin/sh", []string{"-c", "echo ctx=${JUJU_CONTEXT_ID:-none}"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if strings.TrimSpace(string(b)) != "ctx=none" {
		t.Errorf("output %q", b)
	}
	if _, err := Start("/nonexistent/"+time.Now().String(), nil, log); err == nil {
		t.Error("a missing program started")
	}
}
