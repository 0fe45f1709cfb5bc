package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// A successful backup whose provider reported an artefact-path but whose
// folder holds no manifest is restorable, marked unverified; one without
// a path stays missing, a deleted one deleted.
func TestMergeBackupsUnverified(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := requirer.History{Records: []requirer.Record{
		{JobID: "job-a", Application: "seed", Type: dbbackup.Backup, Status: dbbackup.Success, RequestedAt: t0, ArtefactPath: "/dumps/job-a.sql"},
		{JobID: "job-b", Application: "seed", Type: dbbackup.Backup, Status: dbbackup.Success, RequestedAt: t0.Add(time.Hour)},
		{JobID: "job-c", Application: "seed", Type: dbbackup.Backup, Status: dbbackup.Success, RequestedAt: t0.Add(2 * time.Hour), ArtefactPath: "seed/job-c/", Message: deletedNote + "delete-backup at x"},
		{JobID: "job-d", Application: "seed", Type: dbbackup.Backup, Status: dbbackup.Error, RequestedAt: t0.Add(3 * time.Hour), ArtefactPath: "/dumps/job-d.sql"},
	}}
	got := mergeBackups(h, nil, true, "", "")
	want := map[string]struct {
		status     string
		restorable bool
	}{
		"job-a": {statusUnverified, true}, "job-b": {statusMissing, false},
		"job-c": {statusDeleted, false}, "job-d": {"error", false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	for _, b := range got {
		if w := want[b.ID]; b.Status != w.status || b.Restorable != w.restorable {
			t.Errorf("%s = %s restorable=%v, want %s restorable=%v", b.ID, b.Status, b.Restorable, w.status, w.restorable)
		}
		if b.ID == "job-a" && (!strings.Contains(b.Message, "cannot verify") || b.Path != "/dumps/job-a.sql") {
			t.Errorf("job-a = %+v", b)
		}
	}
	// Without a listing of the bucket nothing is declared restorable.
	for _, b := range mergeBackups(h, nil, false, "", "") {
		if b.Restorable {
			t.Errorf("unlisted bucket: %s restorable", b.ID)
		}
	}
}

// juju status says which related applications get the seed's format.
func TestStatusNamesSeedOnlyProviders(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	in := statusInput{now: now, check: s3Check{OK: true}, databases: []string{"pg", "seed"}, seedOnly: []string{"seed"}}
	st, msg := unitStatus(in)
	if st != goops.StatusActive || msg != "ready: no backup yet; seed format (inline credentials) for seed" {
		t.Errorf("got %s %q", st, msg)
	}
	in.seedOnly = nil
	if _, msg := unitStatus(in); msg != "ready: no backup yet" {
		t.Errorf("without seed-only providers: %q", msg)
	}
	in.s3Problem = "no s3 credentials: relate s3-integrator"
	in.seedOnly = []string{"seed"}
	if st, msg := unitStatus(in); st != goops.StatusBlocked || strings.Contains(msg, "seed format") {
		t.Errorf("blocked status got the note: %s %q", st, msg)
	}
}
