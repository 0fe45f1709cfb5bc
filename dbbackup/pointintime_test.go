package dbbackup

import (
	"strings"
	"testing"
	"time"
)

// A restore-to-time and a method written by the requirer survive the
// databag: marshalled, parsed on the provider side, read back equal.
func TestPointInTimeFieldsRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 21, 30, 0, 250_000_000, time.FixedZone("CET", 3600))
	restore := Job{ID: "job-1", Type: Restore, Config: &JobConfig{Compression: true}, StorageInterface: StorageS3,
		Storage: StorageConfig{Bucket: "b", Credentials: Credentials{AccessKey: "a", SecretKey: "s"}}, ArtefactPath: "p/pg/job-0"}.WithRestoreToTime(at)
	backup := Job{ID: "job-2", Type: Backup, Config: &JobConfig{Compression: true}, StorageInterface: StorageS3,
		Storage: StorageConfig{Bucket: "b", Credentials: Credentials{AccessKey: "a", SecretKey: "s"}}}.WithMethod(MethodPhysical)
	text, err := MarshalJobs([]Job{restore, backup}, Requirer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"restore-to-time":"2026-12-04T20:30:00.25Z"`) || !strings.Contains(text, `"method":"physical"`) {
		t.Fatalf("written: %s", text)
	}
	l := ParseJobs(text, Requirer)
	if len(l.Problems) > 0 {
		t.Fatal(l.Problems)
	}
	jobs := l.Jobs()
	got, err := jobs[0].RestoreToTime()
	if err != nil || !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("restore-to-time = %v, %v; want %v in UTC", got, err, at)
	}
	if m, err := jobs[1].BackupMethod(); err != nil || m != MethodPhysical {
		t.Errorf("method = %q, %v", m, err)
	}
	// Absent: zero time, logical; and a logical backup is the seed's.
	if got, err := jobs[1].WithMethod(MethodLogical).BackupMethod(); err != nil || got != MethodLogical {
		t.Errorf("logical = %q, %v", got, err)
	}
	if _, ok := backup.WithMethod(MethodLogical).Extra[MethodField]; ok {
		t.Error("a logical backup carries the method field")
	}
	if tm, err := restore.WithRestoreToTime(time.Time{}).RestoreToTime(); err != nil || !tm.IsZero() {
		t.Errorf("cleared restore-to-time = %v, %v", tm, err)
	}
	// The With methods never change the job they are called on.
	if _, ok := restore.WithRestoreToTime(time.Time{}).Extra[RestoreToTimeField]; ok {
		t.Error("restore-to-time kept after clearing")
	}
	if _, ok := restore.Extra[RestoreToTimeField]; !ok {
		t.Error("WithRestoreToTime modified the job it was called on")
	}
}

// Unusable values are errors naming the field, never a panic.
func TestPointInTimeFieldsRefused(t *testing.T) {
	job := func(typ JobType, field, raw string) Job {
		return Job{ID: "j", Type: typ}.with(field, raw)
	}
	for _, c := range []struct {
		j    Job
		want string
	}{
		{job(Restore, RestoreToTimeField, `"yesterday"`), `restore-to-time "yesterday" is not an RFC 3339 time`},
		{job(Restore, RestoreToTimeField, `1733347800`), "restore-to-time must be a string"},
		{job(Restore, RestoreToTimeField, `"1960-01-01T00:00:00Z"`), "outside 1971-2105"},
		{job(Restore, RestoreToTimeField, `"2200-01-01T00:00:00Z"`), "outside 1971-2105"},
		{job(Restore, RestoreToTimeField, `"2026-12-04 21:30:00"`), "not an RFC 3339 time"},
		{job(Restore, RestoreToTimeField, `"`+strings.Repeat("9", 100)+`"`), "more than 64"},
		{job(Backup, RestoreToTimeField, `"2026-12-04T21:30:00Z"`), "only for restore jobs"},
	} {
		if _, err := c.j.RestoreToTime(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.j.Extra[RestoreToTimeField], err, c.want)
		}
	}
	for _, c := range []struct {
		j    Job
		want string
	}{
		{job(Backup, MethodField, `"incremental"`), `method must be "logical" or "physical", got "incremental"`},
		{job(Backup, MethodField, `["physical"]`), "method must be"},
		{job(Backup, MethodField, `"PHYSICAL"`), "method must be"},
		{job(Restore, MethodField, `"physical"`), "only for backup jobs"},
	} {
		if _, err := c.j.BackupMethod(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.j.Extra[MethodField], err, c.want)
		}
	}
}

func FuzzRestoreTime(f *testing.F) {
	for _, s := range []string{"2026-12-04T21:30:00Z", "2026-12-04T21:30:00.123456789+05:30", "", "x", "9999-99-99T99:99:99Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRestoreTime("restore-to-time", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "restore-to-time") {
				t.Fatalf("error does not name the field: %v", err)
			}
			return
		}
		if got.Location() != time.UTC || got.Year() < minRestoreYear || got.Year() > maxRestoreYear {
			t.Fatalf("accepted %q as %v", s, got)
		}
		// What the requirer writes, the provider reads back equal.
		back, err := (Job{Type: Restore}).WithRestoreToTime(got).RestoreToTime()
		if err != nil || !back.Equal(got) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}
