package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestRunnerKilledMidBackup kills the runner with SIGKILL while a backup
// runs: by the next update-status the job is error (interrupted), the next
// job runs, and nothing of the broken backup is restorable.
func TestRunnerKilledMidBackup(t *testing.T) {
	w, pg := postgresWorld(t, 1)
	pg.Pgbench(t, "shop", 2)
	j := w.journal("agent/0")
	w.request(w.backup("k1"))
	// Step hooks until the runner has the job running, then kill it.
	pid := 0
	for deadline := time.Now().Add(time.Minute); pid == 0; {
		if _, err := w.m.Step(w.ctx); err != nil {
			t.Fatal(err)
		}
		if r, err := j.Get("k1"); err == nil && r.Status == dbbackup.Running {
			pid = runner.PID(j)
		}
		if time.Now().After(deadline) {
			t.Fatal("k1 never ran")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for runner.Alive(j) {
		time.Sleep(5 * time.Millisecond)
	}
	if r, _ := j.Get("k1"); r.Status != dbbackup.Running {
		t.Fatalf("k1 finished before the kill (%s); make the database bigger", r.Status)
	}
	w.m.UpdateStatus()
	k1 := w.wait("k1")["k1"]
	if k1.Status != dbbackup.Error || k1.Message != runner.MsgInterrupted {
		t.Errorf("k1 = %s %q, want error %q", k1.Status, k1.Message, runner.MsgInterrupted)
	}
	w.request(w.backup("k2"))
	if k2 := w.wait("k2")["k2"]; k2.Status != dbbackup.Success {
		t.Errorf("k2 = %+v", k2)
	}
	st, err := s3.New(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The kill may land before the backup wrote its start marker: then
	// there is no backup at all at agent/k1/, else an incomplete one.
	want := artefact.ErrIncomplete
	if _, err := st.Stat(ctx, "agent/k1/"+artefact.StartedName); errors.Is(err, store.ErrNotFound) {
		want = artefact.ErrNoBackup
	}
	if _, err := artefact.ReadManifest(ctx, st, "agent/k1/"); !errors.Is(err, want) {
		t.Errorf("ReadManifest(k1) = %v, want %v", err, want)
	}
	w.request(w.restore("k3", "agent/k1/"))
	if k3 := w.wait("k3")["k3"]; k3.Status != dbbackup.Error {
		t.Errorf("restore of the killed backup = %+v, want error", k3)
	}
}
