package tool

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChildDiesWithItsParent runs, in a child test process, a tool that
// would sleep for ten minutes, kills that process with SIGKILL, and
// expects the tool gone within 10 s: no tool outlives the dbbackup that
// started it.
func TestChildDiesWithItsParent(t *testing.T) {
	if pidFile := os.Getenv("TOOL_TEST_PID_FILE"); pidFile != "" {
		// The child: runs the tool until killed.
		_ = Run(context.Background(), sh(`echo $$ > "`+pidFile+`.tmp" && mv "`+pidFile+`.tmp" "`+pidFile+`" && exec sleep 600`))
		return
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	parent := exec.Command(os.Args[0], "-test.run=^TestChildDiesWithItsParent$")
	parent.Env = append(os.Environ(), "TOOL_TEST_PID_FILE="+pidFile)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = parent.Wait(); close(exited) }()
	t.Cleanup(func() { _ = parent.Process.Kill(); <-exited })

	var pid int
	for deadline := time.Now().Add(30 * time.Second); pid == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the tool did not start in 30 s")
		}
		b, err := os.ReadFile(pidFile)
		if err == nil {
			if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := startTime(pid)
	if start == "" {
		t.Fatalf("the tool (pid %d) is not running", pid)
	}
	t.Cleanup(func() {
		if startTime(pid) == start {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	for deadline := time.Now().Add(10 * time.Second); startTime(pid) == start; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the tool (pid %d) still runs 10 s after its parent was killed", pid)
		}
	}
}

// startTime returns the start time of the live process pid (field 22 of
// its stat), which tells it from a later process given the same pid; ""
// when it is gone or a zombie.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces: count from its ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}
