package bounded

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// stderrLimit bounds what is kept of a tool's standard error: its first
// lines are what a person needs.
const stderrLimit = 64 << 10

// Commands runs hook tools (relation-get, action-get, config-get,
// secret-get...) and returns their standard output, bounded: a tool that
// prints more than Limit bytes is killed and refused. Its Run method makes it
// a goops CommandRunner, so that `goops.SetCommandRunner(bounded.Commands{...})`
// bounds every read a charm makes through goops.
type Commands struct {
	// Limit bounds one tool's standard output; 0 means HookToolOutput.
	Limit int64
}

// Run runs name with args and returns its standard output.
func (c Commands) Run(name string, args ...string) ([]byte, error) {
	limit := c.Limit
	if limit <= 0 {
		limit = HookToolOutput
	}
	cmd := exec.Command(name, args...)
	// The tool runs in its own process group, so that killing it kills
	// what it started too; WaitDelay stops Wait from waiting on a pipe a
	// survivor still holds.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	stderr := &headWriter{max: stderrLimit}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cannot run %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot run %s: %w", name, err)
	}
	out, readErr := ReadAll(stdout, "the output of "+name, limit)
	if readErr != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, readErr
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("command %s failed: %s: %w", name, strings.TrimSpace(stderr.String()), err)
	}
	return out, nil
}

// headWriter keeps the first max bytes written to it and drops the rest.
type headWriter struct {
	max int
	b   []byte
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *headWriter) String() string { return string(w.b) }
