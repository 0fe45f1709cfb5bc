package flock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestMain doubles as the other process: with FLOCK_TEST_HOLD set it takes
// that lock and sleeps until killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("FLOCK_TEST_HOLD"); path != "" {
		if _, err := Take(path); err != nil {
			os.Exit(3)
		}
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A lock taken by another process is held until that process dies.
func TestHeldAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if Held(path) {
		t.Fatal("a fresh lock is held")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FLOCK_TEST_HOLD="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !Held(path) {
		if time.Now().After(deadline) {
			t.Fatal("the other process's lock is not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := Take(path); !errors.Is(err, ErrHeld) {
		t.Errorf("Take while held: %v, want ErrHeld", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	f, err := Take(path)
	if err != nil {
		t.Fatalf("Take after the holder died: %v", err)
	}
	f.Close()
}

func TestTakeReportsOtherErrors(t *testing.T) {
	_, err := Take(filepath.Join(t.TempDir(), "missing", "lock"))
	if err == nil || errors.Is(err, ErrHeld) {
		t.Errorf("Take in a missing folder: %v", err)
	}
}
