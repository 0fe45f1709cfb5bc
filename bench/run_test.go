package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every timed command runs under a launcher: this test binary started again
// with DBBACKUP_BENCH_LAUNCH naming a result file. The launcher is a fresh
// process with little memory, so the command it starts has a true ru_maxrss
// (a child started by vfork, as Go starts them, inherits its parent's
// high-water mark at exec: from the big benchmark process that figure was
// useless); it waits for the command and writes the wall time, the CPU time
// and ru_maxrss of the command and its waited-for descendants, taken by the
// kernel at their exit, which no sampling interval can miss.
const launchEnv = "DBBACKUP_BENCH_LAUNCH"

// launched is the launcher's result file.
type launched struct {
	Wall        time.Duration `json:"wall"`
	CPU         time.Duration `json:"cpu"`
	MaxRSS      int64         `json:"max-rss"`      // bytes, ru_maxrss of the command's subtree
	LauncherHWM int64         `json:"launcher-hwm"` // bytes: MaxRSS at or below it may be the launcher's own
}

// launch runs args as the launcher does and returns the exit code to leave
// with: the command's, or 128+signal.
func launch(result string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "launcher: no command")
		return 127
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = withoutEnv(os.Environ(), launchEnv)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "launcher: cannot start %s: %v\n", args[0], err)
		return 127
	}
	ps := cmd.ProcessState
	ru, _ := ps.SysUsage().(*syscall.Rusage)
	_, hwm := memStatus(os.Getpid())
	res := launched{Wall: wall, CPU: ps.UserTime() + ps.SystemTime(), LauncherHWM: hwm}
	if ru != nil {
		res.MaxRSS = ru.Maxrss * 1024
	}
	data, _ := json.Marshal(res)
	if err := os.WriteFile(result, data, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "launcher: cannot write %s: %v\n", result, err)
		return 127
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func withoutEnv(env []string, name string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// measured is one timed run of a command.
type measured struct {
	wall    time.Duration
	cpu     time.Duration // user+system time of the command and its waited-for descendants
	rss     int64         // bytes: peak RSS of the command's tree (see peakRSS)
	largest int64         // bytes: peak RSS of its largest process
	stdout  []byte
}

// peakRSS is the tree's peak: the largest sum of its processes' resident
// memory over one 10 ms sample, but never less than the peak of its largest
// process, which the kernel records up to the process's last page (the
// launcher's ru_maxrss, when it is above the launcher's own high-water mark)
// and VmHWM records between samples.
func peakRSS(p rssPeak, l launched) (tree, largest int64) {
	largest = p.largest
	if l.MaxRSS > l.LauncherHWM {
		largest = max(largest, l.MaxRSS)
	}
	return max(p.sum, largest), largest
}

// timed runs cmd under the launcher and fails b when it fails; stderr is
// shown only then (the commands never print credentials).
func timed(b testing.TB, what string, cmd *exec.Cmd) measured {
	b.Helper()
	m, err := run(cmd)
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	return m
}

// run is timed without the testing.TB.
func run(cmd *exec.Cmd) (measured, error) {
	if cmd.Err != nil {
		return measured{}, cmd.Err
	}
	self, err := os.Executable()
	if err != nil {
		return measured{}, fmt.Errorf("cannot find the test binary: %w", err)
	}
	res, err := os.CreateTemp("", "bench-launch-*.json")
	if err != nil {
		return measured{}, err
	}
	res.Close()
	defer os.Remove(res.Name())
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	l := exec.Command(self, append([]string{cmd.Path}, cmd.Args[1:]...)...)
	l.Env = append(withoutEnv(env, launchEnv), launchEnv+"="+res.Name())
	l.Dir, l.Stdin, l.Stdout = cmd.Dir, cmd.Stdin, cmd.Stdout
	var out, errb bytes.Buffer
	if l.Stdout == nil {
		l.Stdout = &out
	}
	l.Stderr = &errb
	if err := l.Start(); err != nil {
		return measured{}, err
	}
	poll := pollRSS(l.Process.Pid, 10*time.Millisecond)
	err = l.Wait()
	peak := poll.Stop()
	if err != nil {
		return measured{}, fmt.Errorf("%v\n%s", err, tail(errb.String(), 20))
	}
	var lr launched
	data, err := os.ReadFile(res.Name())
	if err == nil {
		err = json.Unmarshal(data, &lr)
	}
	if err != nil || lr.Wall <= 0 {
		return measured{}, fmt.Errorf("cannot read the launcher's result %q: %v", data, err)
	}
	tree, largest := peakRSS(peak, lr)
	return measured{wall: lr.Wall, cpu: lr.CPU, rss: tree, largest: largest, stdout: out.Bytes()}, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
