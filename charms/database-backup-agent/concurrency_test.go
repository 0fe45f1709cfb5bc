package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store/s3"
)

// records returns every agent unit's journal records by job-id, and the
// units whose journal holds each.
func (w *world) records() (map[string]runner.Record, map[string][]string) {
	w.t.Helper()
	recs, by := map[string]runner.Record{}, map[string][]string{}
	for _, u := range w.m.Units("agent") {
		rs, err := w.journal(u).Load()
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range rs {
			recs[r.JobID] = r
			by[r.JobID] = append(by[r.JobID], u)
		}
	}
	return recs, by
}

func overlap(a, b runner.Record) bool {
	return a.Started.Before(b.Finished) && b.Started.Before(a.Finished)
}

// TestSeedBehaviour checks the seed's provider rules on one unit: two
// backups run at the same time, a restore requested with a backup waits for
// it, two restores never overlap, and a backup stores data, log and manifest.
func TestSeedBehaviour(t *testing.T) {
	w, _ := postgresWorld(t, 1)
	w.request(w.backup("b1"), w.backup("b2"), w.restore("r0", "agent/missing/"))
	got := w.wait("b1", "b2", "r0")
	if got["b1"].Status != dbbackup.Success || got["b2"].Status != dbbackup.Success {
		t.Fatalf("b1, b2 = %+v, %+v", got["b1"], got["b2"])
	}
	recs, _ := w.records()
	if !overlap(recs["b1"], recs["b2"]) {
		t.Errorf("backups did not overlap: b1 %v-%v, b2 %v-%v", recs["b1"].Started, recs["b1"].Finished, recs["b2"].Started, recs["b2"].Finished)
	}
	for _, b := range []string{"b1", "b2"} {
		if recs["r0"].Started.Before(recs[b].Finished) {
			t.Errorf("restore r0 started at %v before backup %s finished at %v", recs["r0"].Started, b, recs[b].Finished)
		}
	}
	// The backup's objects: data, log, manifest.
	cfg := w.storage()
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := artefact.Verify(ctx, st, "agent/b1/", nil)
	if err != nil {
		t.Fatalf("backup b1 does not verify: %v", err)
	}
	if m.Log.Name == "" || len(m.Parts) == 0 || m.Engine.Kind != "postgresql" {
		t.Errorf("manifest = %+v", m)
	}
	w.request(w.restore("r1", "agent/b1/"), w.restore("r2", "agent/b2/"))
	got = w.wait("r1", "r2")
	if got["r1"].Status != dbbackup.Success || got["r2"].Status != dbbackup.Success {
		t.Fatalf("r1, r2 = %+v, %+v", got["r1"], got["r2"])
	}
	recs, _ = w.records()
	if overlap(recs["r1"], recs["r2"]) {
		t.Errorf("restores overlapped: r1 %v-%v, r2 %v-%v", recs["r1"].Started, recs["r1"].Finished, recs["r2"].Started, recs["r2"].Finished)
	}
	w.checkNoSecrets()
}

// TestExactlyOnceThreeUnits runs jobs on 3 units while a unit joins and
// another departs: every job is reported by exactly one unit, the one
// whose runner ran it, and no restore overlaps another job anywhere.
func TestExactlyOnceThreeUnits(t *testing.T) {
	w, _ := postgresWorld(t, 3)
	var ids []string
	var jobs []dbbackup.Job
	for i := range 6 {
		id := fmt.Sprintf("b%d", i)
		ids = append(ids, id)
		jobs = append(jobs, w.backup(id))
	}
	w.request(jobs...)
	w.wait(ids...)
	got, by := w.reports()
	_, ran := w.records()
	for _, id := range ids {
		if got[id].Status != dbbackup.Success {
			t.Errorf("%s = %+v", id, got[id])
		}
		// The status lands in the databag of the unit that ran the job,
		// and nowhere else.
		if len(by[id]) != 1 || len(ran[id]) != 1 || by[id][0] != ran[id][0] {
			t.Errorf("%s reported by %v, run by %v: want one and the same unit", id, by[id], ran[id])
		}
	}
	ranOn1 := map[string]bool{}
	for id, units := range ran {
		ranOn1[id] = units[0] == "agent/1"
	}
	if _, err := w.m.AddUnit(w.ctx, "agent"); err != nil {
		t.Fatal(err)
	}
	w.request(w.restore("r1", "agent/b0/"), w.backup("b6"), w.restore("r2", "agent/b1/"), w.backup("b7"), w.backup("b8"))
	if err := w.m.RemoveUnit(w.ctx, "agent/1"); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, "r1", "b6", "r2", "b7", "b8")
	got = w.wait(ids...)
	got, by = w.reports()
	recs, ran := w.records()
	leader := w.m.Leader("agent")
	for _, id := range ids {
		if len(by[id]) != 1 {
			t.Errorf("%s reported by %v, want exactly one unit", id, by[id])
			continue
		}
		if len(ran[id]) > 1 || (len(ran[id]) == 1 && ranOn1[id]) {
			t.Errorf("%s ran on %v (agent/1 too: %t)", id, ran[id], ranOn1[id])
		}
		switch {
		case len(ran[id]) == 1 && ran[id][0] != by[id][0]:
			t.Errorf("%s reported by %s but run by %v", id, by[id][0], ran[id])
		case len(ran[id]) == 0 && by[id][0] != leader:
			// run by the departed agent/1 (or never started there): the
			// leader reports the recorded outcome
			t.Errorf("%s reported by %s, want the leader %s", id, by[id][0], leader)
		}
	}
	for _, r := range []string{"r1", "r2"} {
		if got[r].Status != dbbackup.Success {
			t.Errorf("%s = %+v", r, got[r])
		}
		for id, o := range recs {
			if id != r && !o.Finished.IsZero() && overlap(recs[r], o) {
				t.Errorf("restore %s overlapped %s", r, id)
			}
		}
	}
	w.checkNoSecrets()
}

// TestRestoreRequestedDuringBackupWaits requests a restore while a backup
// runs: the restore waits for the backup to finish, then runs.
func TestRestoreRequestedDuringBackupWaits(t *testing.T) {
	w, pg := postgresWorld(t, 1)
	pg.Pgbench(t, "shop", 2)
	w.request(w.backup("b0"))
	w.wait("b0")
	w.request(w.backup("b1"))
	j := w.journal("agent/0")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Millisecond) {
		if _, err := w.m.Step(w.ctx); err != nil {
			t.Fatal(err)
		}
		if r, err := j.Get("b1"); err == nil && r.Status == dbbackup.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b1 never ran")
		}
	}
	w.request(w.restore("r1", "agent/b0/"))
	got := w.wait("b1", "r1")
	if got["b1"].Status != dbbackup.Success || got["r1"].Status != dbbackup.Success {
		t.Fatalf("b1, r1 = %+v, %+v", got["b1"], got["r1"])
	}
	recs, _ := w.records()
	if !recs["r1"].Started.After(recs["b1"].Finished) {
		t.Errorf("restore r1 started at %v, before backup b1 finished at %v", recs["r1"].Started, recs["b1"].Finished)
	}
	if recs["r1"].Submitted.After(recs["b1"].Finished) {
		t.Logf("note: r1 reached the runner only after b1 finished (the leader held it)")
	}
}
