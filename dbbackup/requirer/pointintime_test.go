package requirer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// A physical backup and a restore to a time reach the relation with their
// fields; a logical backup and a plain restore are exactly the seed's.
func TestRelationJobsCarryPointInTimeFields(t *testing.T) {
	target := t0.Add(-time.Hour + 500*time.Millisecond)
	h := requirer.History{Records: []requirer.Record{
		with(waiting("job-1", "pg", dbbackup.Backup, 0), func(r *requirer.Record) { r.Method = dbbackup.MethodPhysical }),
		with(waiting("job-2", "pg", dbbackup.Restore, 0), func(r *requirer.Record) { r.RestoreToTime = target }),
		waiting("job-3", "pg", dbbackup.Backup, 0),
		waiting("job-4", "pg", dbbackup.Restore, 0),
	}}
	jobs, err := requirer.RelationJobs(h, "pg", storageConfig(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := jobs[0].BackupMethod(); err != nil || m != dbbackup.MethodPhysical {
		t.Errorf("job-1 method = %q, %v", m, err)
	}
	if at, err := jobs[1].RestoreToTime(); err != nil || !at.Equal(target) || jobs[1].ArtefactPath == "" {
		t.Errorf("job-2 restore-to-time = %v, %v (artefact-path %q)", at, err, jobs[1].ArtefactPath)
	}
	for _, j := range jobs[2:] {
		if len(j.Extra) != 0 {
			t.Errorf("%s carries %v: a logical backup and a plain restore are the seed's", j.ID, j.Extra)
		}
	}
	text, err := dbbackup.MarshalJobs(jobs, dbbackup.Requirer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"method":"physical"`) || !strings.Contains(text, `"restore-to-time":"2026-11-25T12:00:00.5Z"`) {
		t.Errorf("written: %s", text)
	}
}

// A stored history with an unusable method or restore-to-time is refused,
// naming the record's field.
func TestHistoryRefusesBadPointInTimeFields(t *testing.T) {
	for _, c := range []struct {
		r    requirer.Record
		want string
	}{
		{with(waiting("job-1", "pg", dbbackup.Restore, 0), func(r *requirer.Record) { r.Method = dbbackup.MethodPhysical }), "records[0].method: only a backup has one"},
		{with(waiting("job-1", "pg", dbbackup.Backup, 0), func(r *requirer.Record) { r.Method = "incremental" }), `records[0].method: must be empty (logical) or "physical"`},
		{with(waiting("job-1", "pg", dbbackup.Backup, 0), func(r *requirer.Record) { r.RestoreToTime = t0 }), "records[0].restore-to-time: only a restore has one"},
		{with(waiting("job-1", "pg", dbbackup.Restore, 0), func(r *requirer.Record) { r.RestoreToTime, r.ArtefactPath = t0, "" }), "records[0].restore-to-time: needs artefact-path"},
	} {
		h := requirer.History{Records: []requirer.Record{c.r}}
		if _, err := h.Marshal(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Marshal() error = %v, want %q", err, c.want)
		}
	}
	bad := `{"version":1,"records":[{"job-id":"job-1","application":"pg","job-type":"restore","source":"action","storage":{"bucket":"b"},"requested-at":"2026-11-25T13:00:00Z","status":"waiting","artefact-path":"p/pg/j","restore-to-time":"yesterday"}]}`
	if _, err := requirer.ParseHistory(bad); err == nil || !strings.Contains(err.Error(), `records[0].restore-to-time`) {
		t.Errorf("ParseHistory of a bad restore-to-time: %v", err)
	}
}
