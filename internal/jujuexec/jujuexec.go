// Package jujuexec runs a charm's own binary from a process outside any
// hook: it starts such processes (detached from the hook that starts them)
// and calls back into the unit's hook context through `juju-exec UNIT
// COMMAND`, which Juju runs once the unit's running hook ends.
package jujuexec

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// hookVars are the variables of a hook context that a process outliving
// the hook must not carry: juju-exec refuses to run inside a context.
var hookVars = []string{"JUJU_CONTEXT_ID", "JUJU_HOOK_NAME", "JUJU_DISPATCH_PATH", "JUJU_ACTION_NAME",
	"JUJU_ACTION_UUID", "JUJU_RELATION", "JUJU_RELATION_ID", "JUJU_REMOTE_APP", "JUJU_REMOTE_UNIT",
	"JUJU_DEPARTING_UNIT", "JUJU_SECRET_ID", "JUJU_SECRET_LABEL", "JUJU_SECRET_REVISION"}

// CleanEnv returns this process's environment without the hook context.
func CleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, h := range hookVars {
			drop = drop || name == h
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Timeout bounds one juju-exec call.
const Timeout = 2 * time.Minute

// Run runs exe in unit's hook context through juju-exec and returns its
// output in the error when it fails.
func Run(ctx context.Context, unit, exe string) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "juju-exec", unit, exe)
	cmd.Env = CleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("juju-exec %s: %v: %s", unit, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Start starts exe with args in a session of its own, so it outlives the
// hook, without the hook context, its output appended to logPath (0600).
// The caller may Wait for it to reap it if it ends while the hook lives.
func Start(exe string, args []string, logPath string) (*exec.Cmd, error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Env = CleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}
