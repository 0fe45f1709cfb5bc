package requirer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

func TestRequest(t *testing.T) {
	base := hist(waiting("job-1", "mysql", dbbackup.Backup, 0))
	cases := []struct {
		name    string
		rec     requirer.Record
		wantErr string
		wantDup bool
	}{
		{name: "backup", rec: waiting("job-2", "mysql", dbbackup.Backup, time.Minute)},
		{name: "restore", rec: waiting("job-0", "pg", dbbackup.Restore, time.Minute)},
		{name: "reported fields are reset", rec: finished(waiting("job-3", "mysql", dbbackup.Backup, 0), dbbackup.Success, "mysql/0", time.Hour)},
		{name: "duplicate id", rec: waiting("job-1", "mysql", dbbackup.Backup, 0), wantErr: "duplicate job id", wantDup: true},
		{name: "bad id", rec: waiting("../x", "mysql", dbbackup.Backup, 0), wantErr: "job.job-id"},
		{name: "no application", rec: waiting("job-4", "", dbbackup.Backup, 0), wantErr: "job.application: required"},
		{name: "unit as application", rec: waiting("job-4", "mysql/0", dbbackup.Backup, 0), wantErr: "job.application"},
		{name: "bad type", rec: waiting("job-4", "mysql", "snapshot", 0), wantErr: "job.job-type"},
		{name: "restore without path", rec: with(waiting("job-4", "mysql", dbbackup.Restore, 0), func(r *requirer.Record) { r.ArtefactPath = "" }), wantErr: "job.artefact-path: required for a restore"},
		{name: "no source", rec: with(waiting("job-4", "mysql", dbbackup.Backup, 0), func(r *requirer.Record) { r.Source = "" }), wantErr: "job.source"},
		{name: "no bucket", rec: with(waiting("job-4", "mysql", dbbackup.Backup, 0), func(r *requirer.Record) { r.Storage.Bucket = "" }), wantErr: "job.storage.bucket: required"},
		{name: "no time", rec: with(waiting("job-4", "mysql", dbbackup.Backup, 0), func(r *requirer.Record) { r.RequestedAt = time.Time{} }), wantErr: "job.requested-at: required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := requirer.Request(base, c.rec)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Request() error = %v, want one containing %q", err, c.wantErr)
				}
				if errors.Is(err, requirer.ErrDuplicateJob) != c.wantDup {
					t.Errorf("errors.Is(err, ErrDuplicateJob) = %v, want %v", !c.wantDup, c.wantDup)
				}
				if len(got.Records) != 1 {
					t.Errorf("history changed on error: %d records", len(got.Records))
				}
				return
			}
			if err != nil {
				t.Fatalf("Request() error = %v", err)
			}
			if len(got.Records) != 2 || len(base.Records) != 1 {
				t.Fatalf("got %d records (base %d), want 2 (base 1)", len(got.Records), len(base.Records))
			}
			r, ok := got.Find(c.rec.JobID)
			if !ok {
				t.Fatalf("record %s not found", c.rec.JobID)
			}
			want := with(c.rec, func(w *requirer.Record) {
				w.Status, w.Unit, w.Message = dbbackup.Waiting, "", ""
				w.StartedAt, w.SeenAt, w.FinishedAt = time.Time{}, time.Time{}, time.Time{}
			})
			if r != want {
				t.Errorf("record = %+v, want %+v", r, want)
			}
			if err := got.Check(); err != nil {
				t.Errorf("history after Request fails Check: %v", err)
			}
			if got.Records[0].JobID > got.Records[1].JobID {
				t.Errorf("records not sorted: %s, %s", got.Records[0].JobID, got.Records[1].JobID)
			}
		})
	}
}

func TestRequestStampsTime(t *testing.T) {
	r := waiting("job-1", "mysql", dbbackup.Backup, 0)
	r.RequestedAt = time.Date(2026, 11, 25, 14, 0, 0, 123456789, time.FixedZone("CET", 3600))
	h, err := requirer.Request(requirer.History{}, r)
	if err != nil {
		t.Fatal(err)
	}
	got, want := h.Records[0].RequestedAt, t0
	if got != want {
		t.Errorf("RequestedAt = %v, want %v (UTC, whole seconds)", got, want)
	}
}

func TestCanRequest(t *testing.T) {
	b1 := waiting("job-1", "mysql", dbbackup.Backup, 0)
	b2 := running(waiting("job-2", "mysql", dbbackup.Backup, 0), "mysql/0", time.Minute)
	r3 := waiting("job-3", "mysql", dbbackup.Restore, 0)
	r4 := running(waiting("job-4", "mysql", dbbackup.Restore, 0), "mysql/1", time.Minute)
	done := finished(waiting("job-5", "mysql", dbbackup.Restore, 0), dbbackup.Success, "mysql/1", time.Minute)
	otherRestore := waiting("job-6", "pg", dbbackup.Restore, 0)
	cases := []struct {
		name    string
		h       requirer.History
		typ     dbbackup.JobType
		limit   int
		wantErr error
		wantMsg string
	}{
		{name: "empty", h: hist(), typ: dbbackup.Backup, limit: 1},
		{name: "below limit", h: hist(b1), typ: dbbackup.Backup, limit: 2},
		{name: "at limit", h: hist(b1, b2), typ: dbbackup.Backup, limit: 2, wantErr: requirer.ErrTooManyPending, wantMsg: "cannot request a backup of mysql: 2 jobs are already waiting or running (limit 2)"},
		{name: "terminal jobs do not count", h: hist(b1, done), typ: dbbackup.Backup, limit: 2},
		{name: "other application does not count", h: hist(b1, otherRestore), typ: dbbackup.Restore, limit: 2},
		{name: "restore beside backups", h: hist(b1, b2), typ: dbbackup.Restore, limit: 3},
		{name: "restore while restore waits", h: hist(b1, r3), typ: dbbackup.Restore, limit: 10, wantErr: requirer.ErrRestoreRunning, wantMsg: "restore job-3 is waiting for a unit to pick it up"},
		{name: "restore while restore runs", h: hist(r4), typ: dbbackup.Restore, limit: 10, wantErr: requirer.ErrRestoreRunning, wantMsg: "restore job-4 is running on mysql/1"},
		{name: "backup while restore runs", h: hist(r4), typ: dbbackup.Backup, limit: 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := requirer.CanRequest(c.h, "mysql", c.typ, c.limit)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("CanRequest() = %v, want %v", err, c.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("CanRequest() = %q, want it to contain %q", err, c.wantMsg)
			}
		})
	}
}
