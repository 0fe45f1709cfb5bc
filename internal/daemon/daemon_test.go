package daemon

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the daemon: "daemon-child DIR MODE" holds DIR's
// daemon and then, by MODE, waits for SIGTERM ("term"), ignores it
// ("deaf"), rewrites DIR/state with WriteFile without end ("write"), or
// on SIGTERM hands its lock to a successor that waits for SIGTERM
// ("respawn", as a hook that finds the daemon gone starts another). The
// successor ("heir") inherits the locked file, so the lock is never free
// between the two and Stop sees the successor every time: when the first
// let go of the lock before starting it, Stop could find the lock free in
// between, return, and leave the test with nothing to check.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "daemon-child" {
		os.Exit(child(os.Args[2], os.Args[3]))
	}
	os.Exit(m.Run())
}

func child(dir, mode string) int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	d := Daemon{Dir: dir, Name: "test daemon"}
	var lock io.Closer
	if mode == "heir" {
		lock = os.NewFile(3, "inherited lock")
		if err := WriteFile(d.pidPath(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
			return 1
		}
	} else {
		var err error
		lock, err = d.Hold()
		if errors.Is(err, ErrRunning) {
			return 3
		}
		if err != nil {
			return 1
		}
	}
	defer lock.Close()
	switch mode {
	case "deaf":
		for {
			time.Sleep(time.Hour)
		}
	case "respawn":
		select {
		case <-term:
		case <-time.After(time.Minute):
			return 0
		}
		exe, err := os.Executable()
		if err != nil {
			return 1
		}
		heir := exec.Command(exe, "daemon-child", dir, "heir")
		heir.ExtraFiles = []*os.File{lock.(*os.File)}
		heir.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := heir.Start(); err != nil {
			return 1
		}
		for deadline := time.Now().Add(10 * time.Second); d.PID() != heir.Process.Pid; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				heir.Process.Kill()
				return 1
			}
		}
		return 0
	case "write":
		for i := 0; ; i++ {
			if err := WriteFile(filepath.Join(dir, "state"), stateText(i%2), 0o600); err != nil {
				return 1
			}
		}
	}
	select {
	case <-term:
	case <-time.After(time.Minute): // never outlive a failed test for long
	}
	return 0
}

// stateText is one of the two contents the writing child alternates: 256
// KiB, so that a write is caught in the middle.
func stateText(i int) []byte { return bytes.Repeat([]byte{"AB"[i]}, 256<<10) }

func testDaemon(t *testing.T) (Daemon, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := Daemon{Dir: t.TempDir(), Name: "test daemon"}
	t.Cleanup(func() {
		if pid := d.PID(); pid > 0 && d.Alive() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return d, exe
}

// alive reports whether process pid exists (and is not a zombie of ours:
// Start reaps what it started).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// waitGone waits up to 5 s for pid to end.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

// Starting twice keeps the one daemon; a process that tries to hold it
// meanwhile is refused; Stop ends it with SIGTERM.
func TestStartTwice(t *testing.T) {
	d, exe := testDaemon(t)
	if d.Alive() || d.PID() != 0 {
		t.Fatalf("a daemon before any start: alive %v pid %d", d.Alive(), d.PID())
	}
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "term"}); err != nil {
		t.Fatal(err)
	}
	first := d.PID()
	if !d.Alive() || first <= 0 || !alive(first) {
		t.Fatalf("after Start: alive %v pid %d", d.Alive(), first)
	}
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "term"}); err != nil {
		t.Fatal(err)
	}
	if got := d.PID(); got != first {
		t.Errorf("second Start: pid %d, want the first daemon's %d", got, first)
	}
	// A second process that races past Alive does not take over.
	out, err := exec.Command(exe, "daemon-child", d.Dir, "term").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("a second daemon process: %v %s, want exit 3 (ErrRunning)", err, out)
	}
	if _, err := d.Hold(); !errors.Is(err, ErrRunning) {
		t.Errorf("Hold while the daemon runs: %v, want ErrRunning", err)
	}
	if got := d.PID(); got != first {
		t.Errorf("after the refused holders: pid %d, want %d", got, first)
	}
	if err := d.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d.Alive() {
		t.Error("alive after Stop")
	}
	waitGone(t, first)
}

// A pid file left by a dead daemon neither makes it alive nor gets
// another process signalled: Stop does nothing, Start starts afresh.
func TestStalePID(t *testing.T) {
	d, exe := testDaemon(t)
	// This test process stands for whatever reused the pid.
	if err := os.WriteFile(filepath.Join(d.Dir, "pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if d.Alive() {
		t.Fatal("a stale pid file makes the daemon alive")
	}
	if err := d.Stop(time.Second); err != nil { // would SIGTERM this test
		t.Fatal(err)
	}
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "term"}); err != nil {
		t.Fatal(err)
	}
	if pid := d.PID(); pid == os.Getpid() || !d.Alive() {
		t.Errorf("after Start over a stale pid: pid %d (stale %d), alive %v", pid, os.Getpid(), d.Alive())
	}
	if err := d.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// A SIGKILLed daemon is noticed at once (the kernel drops its lock), and
// Start replaces it.
func TestKilledDaemonNoticed(t *testing.T) {
	d, exe := testDaemon(t)
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "term"}); err != nil {
		t.Fatal(err)
	}
	pid := d.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if d.Alive() {
		t.Fatal("a SIGKILLed daemon is alive")
	}
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "term"}); err != nil {
		t.Fatal(err)
	}
	if got := d.PID(); got == pid || !d.Alive() {
		t.Errorf("restart: pid %d (killed %d), alive %v", got, pid, d.Alive())
	}
	if err := d.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// A daemon that ignores SIGTERM is killed once the grace has passed.
func TestStopEscalatesToSIGKILL(t *testing.T) {
	d, exe := testDaemon(t)
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "deaf"}); err != nil {
		t.Fatal(err)
	}
	pid := d.PID()
	start := time.Now()
	if err := d.Stop(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Stop returned after %v, before the grace", took)
	}
	if d.Alive() {
		t.Error("alive after Stop")
	}
	waitGone(t, pid)
}

// A daemon started again while it stops (its successor took the lock):
// Stop stops the successor too, and returns with the lock free. On the
// old code Stop waited for the first pid's lock, SIGKILLed a process
// already gone and failed with "still holds its lock after SIGKILL".
func TestStopAlsoStopsASuccessor(t *testing.T) {
	d, exe := testDaemon(t)
	if err := d.Start(exe, []string{"daemon-child", d.Dir, "respawn"}); err != nil {
		t.Fatal(err)
	}
	first := d.PID()
	if err := d.Stop(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d.Alive() {
		t.Errorf("the lock is held after Stop (pid %d; the first was %d)", d.PID(), first)
	}
	if d.PID() == first {
		t.Errorf("no successor ever took the lock: the test did not test")
	}
}

// A daemon that did not start says so and names its log.
func TestStartFailure(t *testing.T) {
	d, _ := testDaemon(t)
	err := d.Start("/bin/false", nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(d.LogPath())) {
		t.Errorf("Start of a program that exits: %v, want an error naming %s", err, d.LogPath())
	}
}

// A state file survives a crash mid-write: a process rewriting it without
// end is SIGKILLed at random moments, and each time the file holds one
// whole version, never a mix, a truncation or nothing.
func TestWriteFileSurvivesCrash(t *testing.T) {
	d, exe := testDaemon(t)
	state := filepath.Join(d.Dir, "state")
	a, b := stateText(0), stateText(1)
	for round := 0; round < 8; round++ {
		cmd := exec.Command(exe, "daemon-child", d.Dir, "write")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it write for a while once the first version is there: 20 to
		// 55 ms (the process may be slow to start, under -race).
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(state); err == nil || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(time.Duration(20+5*round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		got, err := os.ReadFile(state)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("round %d: the state file holds %d bytes that are neither version", round, len(got))
		}
	}
	if err := WriteFile(state, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", fi.Mode(), err)
	}
}
