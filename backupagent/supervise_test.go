package backupagent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/runner"
)

// fakeArchiver writes a script that stands in for the archiver: it counts
// its starts, then runs body.
func fakeArchiver(t *testing.T, body string) (exe, starts string) {
	t.Helper()
	dir := t.TempDir()
	starts = filepath.Join(dir, "starts")
	exe = filepath.Join(dir, "archiver.sh")
	script := fmt.Sprintf("#!/bin/sh\necho $$ >> %s\n%s\n", starts, body)
	if err := os.WriteFile(exe, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return exe, starts
}

func countLines(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "\n")
}

// archivingJournal is a journal that asks for an archiver.
func archivingJournal(t *testing.T) runner.Journal {
	t.Helper()
	j := runner.Journal{Dir: filepath.Join(t.TempDir(), "j")}
	if _, err := SetDatabase(j, Database{Engine: engine.MySQL, Host: "127.0.0.1", Port: 1, User: "u", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if _, err := SetArchiving(j, Archiving{On: true}); err != nil {
		t.Fatal(err)
	}
	job := dbbackup.Job{ID: "b1", Type: dbbackup.Backup, StorageInterface: dbbackup.StorageS3,
		Storage: dbbackup.StorageConfig{Bucket: "b", Credentials: dbbackup.Credentials{AccessKey: "ak", SecretKey: "sk"}}}
	if err := recordArchiveJob(j, job); err != nil {
		t.Fatal(err)
	}
	return j
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The runner's supervisor starts the archiver when the journal asks for
// one, starts it again after a SIGKILL (recording why it ended), stops it
// when archiving goes off, and stops it when the runner stops.
func TestSuperviseArchiverRestartsAndStops(t *testing.T) {
	j := archivingJournal(t)
	exe, starts := fakeArchiver(t, "exec sleep 30")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		superviseArchiver(ctx, j, exe, "app", 10*time.Millisecond, os.Stderr, os.Stderr, func() {})
	}()
	defer func() { cancel(); <-done }()
	var first int
	until(t, "the archiver to start", func() bool {
		s := ReadArchiverState(j)
		first = s.PID
		return s.Running && first != 0
	})
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var second int
	until(t, "the archiver to start again", func() bool {
		s := ReadArchiverState(j)
		second = s.PID
		return s.Running && second != 0 && second != first
	})
	if s := ReadArchiverState(j); s.Restarts != 1 || !strings.Contains(s.LastError, "killed") {
		t.Errorf("state after a SIGKILL = %+v, want one restart and why it ended", s)
	}
	if n := countLines(starts); n != 2 {
		t.Errorf("%d starts, want 2", n)
	}
	// A newer backup's storage restarts it with that storage.
	job, _ := j.JobValue(archiveJobValue)
	job.ID, job.Storage.Bucket = "b2", "other"
	if err := recordArchiveJob(j, job); err != nil {
		t.Fatal(err)
	}
	until(t, "a restart on the new storage", func() bool {
		s := ReadArchiverState(j)
		return s.Running && s.PID != second && s.PID != 0
	})
	old := job
	old.ID = "b0"
	if err := recordArchiveJob(j, old); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.JobValue(archiveJobValue); got.ID != "b2" {
		t.Errorf("an older backup replaced the archive's storage: %s", got.ID)
	}
	third := ReadArchiverState(j).PID
	if _, err := SetArchiving(j, Archiving{}); err != nil {
		t.Fatal(err)
	}
	until(t, "the archiver to stop", func() bool {
		return !ReadArchiverState(j).Running && syscall.Kill(third, 0) != nil
	})
	if _, err := SetArchiving(j, Archiving{On: true}); err != nil {
		t.Fatal(err)
	}
	var fourth int
	until(t, "the archiver to start when archiving is on again", func() bool {
		s := ReadArchiverState(j)
		fourth = s.PID
		return s.Running && fourth != 0
	})
	cancel()
	<-done
	if syscall.Kill(fourth, 0) == nil {
		t.Errorf("the archiver %d outlived its runner", fourth)
	}
	if ReadArchiverState(j).Running {
		t.Error("the state says running after the runner stopped")
	}
}

// An archiver that keeps failing is started again with a growing delay,
// bounded, and its recorded error is what the status shows.
func TestSuperviseArchiverBacksOff(t *testing.T) {
	defer func(a, b time.Duration) { archiverBackoffMin, archiverBackoffMax = a, b }(archiverBackoffMin, archiverBackoffMax)
	archiverBackoffMin, archiverBackoffMax = 40*time.Millisecond, 160*time.Millisecond
	j := archivingJournal(t)
	exe, starts := fakeArchiver(t, fmt.Sprintf(`printf '{"error":"cannot connect to MariaDB"}' > %s/%s; exit 1`, j.Dir, archiverExitValue))
	ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
	defer cancel()
	superviseArchiver(ctx, j, exe, "app", 5*time.Millisecond, os.Stderr, os.Stderr, func() {})
	// 0, 40, 120, 280, 440, 600, 760 ms: 7 starts; without a backoff,
	// one every poll (about 180).
	if n := countLines(starts); n < 3 || n > 9 {
		t.Errorf("%d starts in 900ms, want 3 to 9 (a delay doubling from 40ms to 160ms)", n)
	}
	s := ReadArchiverState(j)
	if s.Running || s.LastError != "cannot connect to MariaDB" || s.Restarts < 2 {
		t.Errorf("state = %+v", s)
	}
	if _, msg := StatusFrom(j, nil, time.Now()); !strings.Contains(msg, "log archiver down") || !strings.Contains(msg, "cannot connect to MariaDB") {
		t.Errorf("status = %q, want the archiver's error", msg)
	}
}
