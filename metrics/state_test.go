package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbbackup/dbbackup/dbbackup"
)

var t0 = time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)

// fullSnapshot has every fact set: the manager's view of one application
// and the agent's view of one unit.
func fullSnapshot() Snapshot {
	return Snapshot{Apps: []App{
		{
			Application: "pg",
			LastSuccess: t0.Add(-24 * time.Hour),
			Last: []Job{
				{Type: dbbackup.Backup, Outcome: dbbackup.Error, Started: t0, Ended: t0.Add(90 * time.Second)},
				{Type: dbbackup.Restore, Outcome: dbbackup.Success, Started: t0.Add(-time.Hour), Ended: t0.Add(-50 * time.Minute), RawBytes: 1000, StoredBytes: 300},
			},
			Counts: []Count{
				{Type: dbbackup.Backup, Outcome: dbbackup.Success, Jobs: 7, Seconds: 420},
				{Type: dbbackup.Backup, Outcome: dbbackup.Error, Jobs: 1, Seconds: 90},
			},
			NextBackup: t0.Add(21 * time.Hour),
			MaxAge:     36 * time.Hour,
			Bucket:     &Bucket{Backups: 7, StoredBytes: 2100, Listed: t0.Add(-time.Minute)},
		},
		{
			Application: "pg",
			Unit:        "pg/0",
			LastSuccess: t0.Add(-24 * time.Hour),
			Storage:     &StorageCheck{Reachable: false, Checked: t0},
		},
	}}
}

// TestExposition pins every name, label and value the collector serves.
func TestExposition(t *testing.T) {
	timeNow = func() time.Time { return t0 }
	t.Cleanup(func() { timeNow = time.Now })
	var st State
	if err := st.Set(fullSnapshot()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP dbbackup_backup_max_age_seconds Age the last successful backup may reach before the BackupTooOld alert fires.
# TYPE dbbackup_backup_max_age_seconds gauge
dbbackup_backup_max_age_seconds{application="pg",unit=""} 129600
# HELP dbbackup_bucket_backups Complete backups held in the bucket at the last listing.
# TYPE dbbackup_bucket_backups gauge
dbbackup_bucket_backups{application="pg",unit=""} 7
# HELP dbbackup_bucket_listed_timestamp_seconds Unix time of the last listing of the bucket.
# TYPE dbbackup_bucket_listed_timestamp_seconds gauge
dbbackup_bucket_listed_timestamp_seconds{application="pg",unit=""} 1.79635314e+09
# HELP dbbackup_bucket_stored_bytes Total size of the backups held in the bucket at the last listing.
# TYPE dbbackup_bucket_stored_bytes gauge
dbbackup_bucket_stored_bytes{application="pg",unit=""} 2100
# HELP dbbackup_job_duration_seconds_total Run time of the finished jobs, added up, by type and outcome.
# TYPE dbbackup_job_duration_seconds_total counter
dbbackup_job_duration_seconds_total{application="pg",outcome="error",type="backup",unit=""} 90
dbbackup_job_duration_seconds_total{application="pg",outcome="success",type="backup",unit=""} 420
# HELP dbbackup_jobs_total Finished jobs by type and outcome.
# TYPE dbbackup_jobs_total counter
dbbackup_jobs_total{application="pg",outcome="error",type="backup",unit=""} 1
dbbackup_jobs_total{application="pg",outcome="success",type="backup",unit=""} 7
# HELP dbbackup_last_job_duration_seconds Run time of the last finished job of each type.
# TYPE dbbackup_last_job_duration_seconds gauge
dbbackup_last_job_duration_seconds{application="pg",type="backup",unit=""} 90
dbbackup_last_job_duration_seconds{application="pg",type="restore",unit=""} 600
# HELP dbbackup_last_job_end_timestamp_seconds Unix time at which the last finished job of each type ended.
# TYPE dbbackup_last_job_end_timestamp_seconds gauge
dbbackup_last_job_end_timestamp_seconds{application="pg",type="backup",unit=""} 1.79635329e+09
dbbackup_last_job_end_timestamp_seconds{application="pg",type="restore",unit=""} 1.7963502e+09
# HELP dbbackup_last_job_outcome 1 for the outcome of the last finished job of each type, 0 for the other outcome.
# TYPE dbbackup_last_job_outcome gauge
dbbackup_last_job_outcome{application="pg",outcome="error",type="backup",unit=""} 1
dbbackup_last_job_outcome{application="pg",outcome="error",type="restore",unit=""} 0
dbbackup_last_job_outcome{application="pg",outcome="success",type="backup",unit=""} 0
dbbackup_last_job_outcome{application="pg",outcome="success",type="restore",unit=""} 1
# HELP dbbackup_last_job_raw_bytes Size of the database stream of the last finished job of each type.
# TYPE dbbackup_last_job_raw_bytes gauge
dbbackup_last_job_raw_bytes{application="pg",type="restore",unit=""} 1000
# HELP dbbackup_last_job_stored_bytes Size in the bucket of the last finished job of each type.
# TYPE dbbackup_last_job_stored_bytes gauge
dbbackup_last_job_stored_bytes{application="pg",type="restore",unit=""} 300
# HELP dbbackup_last_success_timestamp_seconds Unix time at which the last successful backup ended.
# TYPE dbbackup_last_success_timestamp_seconds gauge
dbbackup_last_success_timestamp_seconds{application="pg",unit=""} 1.7962668e+09
dbbackup_last_success_timestamp_seconds{application="pg",unit="pg/0"} 1.7962668e+09
# HELP dbbackup_metrics_snapshot_timestamp_seconds Unix time at which the served facts were last updated.
# TYPE dbbackup_metrics_snapshot_timestamp_seconds gauge
dbbackup_metrics_snapshot_timestamp_seconds 1.7963532e+09
# HELP dbbackup_next_backup_timestamp_seconds Unix time at which the next scheduled backup is due.
# TYPE dbbackup_next_backup_timestamp_seconds gauge
dbbackup_next_backup_timestamp_seconds{application="pg",unit=""} 1.7964288e+09
# HELP dbbackup_storage_checked_timestamp_seconds Unix time of the last attempt to reach the storage.
# TYPE dbbackup_storage_checked_timestamp_seconds gauge
dbbackup_storage_checked_timestamp_seconds{application="pg",unit="pg/0"} 1.7963532e+09
# HELP dbbackup_storage_reachable 1 if the storage answered at the last attempt, 0 if it did not.
# TYPE dbbackup_storage_reachable gauge
dbbackup_storage_reachable{application="pg",unit="pg/0"} 0
`
	if err := testutil.CollectAndCompare(&st, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestNamesFollowConventions runs Prometheus's own linter on the served
// metrics, and checks units and counters by name.
func TestNamesFollowConventions(t *testing.T) {
	var st State
	if err := st.Set(fullSnapshot()); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(&st)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(&st); n < len(allNames) {
		t.Errorf("the full snapshot gives %d series, fewer than the %d names", n, len(allNames))
	}
	for _, n := range allNames {
		if !strings.HasPrefix(n, "dbbackup_") {
			t.Errorf("%s: no dbbackup_ prefix", n)
		}
		if strings.Contains(n, "timestamp") || strings.Contains(n, "duration") || strings.Contains(n, "_age_") {
			if !strings.HasSuffix(n, "_seconds") && !strings.HasSuffix(n, "_seconds_total") {
				t.Errorf("%s: a time without _seconds", n)
			}
		}
	}
}

// TestUnknownFactsLeftOut: an application with nothing known yet gives no
// series at all, so no alert can fire on a zero that means "unknown".
func TestUnknownFactsLeftOut(t *testing.T) {
	var st State
	if err := st.Set(Snapshot{Apps: []App{{Application: "pg"}}}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(&st); n != 1 { // the snapshot time alone
		t.Fatalf("got %d series, want only the snapshot time", n)
	}
	var empty State
	if n := testutil.CollectAndCount(&empty); n != 0 {
		t.Fatalf("a State never set serves %d series", n)
	}
}

// TestSnapshotValidate: every field that becomes a label or a value is
// checked; a refused snapshot leaves the previous one served.
func TestSnapshotValidate(t *testing.T) {
	bad := map[string]func(*Snapshot){
		"app with a slash":      func(s *Snapshot) { s.Apps[0].Application = "pg/0" },
		"app with upper case":   func(s *Snapshot) { s.Apps[0].Application = "PG" },
		"app empty":             func(s *Snapshot) { s.Apps[0].Application = "" },
		"app ending in hyphen":  func(s *Snapshot) { s.Apps[0].Application = "pg-" },
		"app too long":          func(s *Snapshot) { s.Apps[0].Application = strings.Repeat("a", 64) },
		"unit of another app":   func(s *Snapshot) { s.Apps[1].Unit = "my/0" },
		"unit without number":   func(s *Snapshot) { s.Apps[1].Unit = "pg/" },
		"unit prefix only":      func(s *Snapshot) { s.Apps[1].Application, s.Apps[1].Unit = "pgx", "pg/0" },
		"duplicate app":         func(s *Snapshot) { s.Apps[1].Unit = "" },
		"free text type":        func(s *Snapshot) { s.Apps[0].Last[0].Type = "backup; password=x" },
		"running outcome":       func(s *Snapshot) { s.Apps[0].Last[0].Outcome = dbbackup.Running },
		"two last backups":      func(s *Snapshot) { s.Apps[0].Last[1].Type = dbbackup.Backup },
		"negative size":         func(s *Snapshot) { s.Apps[0].Last[1].RawBytes = -1 },
		"ended before started":  func(s *Snapshot) { s.Apps[0].Last[0].Ended = t0.Add(-time.Second) },
		"count twice":           func(s *Snapshot) { s.Apps[0].Counts[1].Outcome = dbbackup.Success },
		"count bad outcome":     func(s *Snapshot) { s.Apps[0].Counts[0].Outcome = "ok" },
		"negative seconds":      func(s *Snapshot) { s.Apps[0].Counts[0].Seconds = -1 },
		"negative max age":      func(s *Snapshot) { s.Apps[0].MaxAge = -time.Second },
		"negative bucket bytes": func(s *Snapshot) { s.Apps[0].Bucket.StoredBytes = -5 },
		"too many apps":         func(s *Snapshot) { s.Apps = make([]App, MaxApps+1) },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			var st State
			good := fullSnapshot()
			if err := st.Set(good); err != nil {
				t.Fatal(err)
			}
			s := fullSnapshot()
			mutate(&s)
			err := st.Set(s)
			if !errors.Is(err, ErrInvalidSnapshot) {
				t.Fatalf("Set: got %v, want ErrInvalidSnapshot", err)
			}
			if got := st.Snapshot(); len(got.Apps) != 2 || got.Apps[0].Application != "pg" || got.Apps[0].Last[0].Type != dbbackup.Backup {
				t.Fatalf("a refused snapshot changed the served one: %+v", got)
			}
		})
	}
}

// TestSecretCanary: a credential handed in any text field is refused, so
// it never reaches a label; the exposition holds only Juju names, the two
// job types, the two outcomes and numbers. (A secret spelled like a Juju
// application name would pass: the guarantee is the vocabulary, so the
// canary has the shape of an S3 secret key.)
func TestSecretCanary(t *testing.T) {
	const canary = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYCANARYKEY"
	var st State
	if err := st.Set(fullSnapshot()); err != nil {
		t.Fatal(err)
	}
	for _, mutate := range []func(*App){
		func(a *App) { a.Application = canary },
		func(a *App) { a.Unit = "pg/0" + canary },
		func(a *App) { a.Last[0].Type = canary },
		func(a *App) { a.Last[0].Outcome = canary },
		func(a *App) { a.Counts[0].Type = canary },
	} {
		s := fullSnapshot()
		mutate(&s.Apps[0])
		if err := st.Set(s); err == nil {
			t.Errorf("Set accepted a snapshot with the canary: %+v", s.Apps[0])
		}
	}
	body := scrape(t, &st)
	if strings.Contains(body, "CANARY") {
		t.Fatalf("the canary reached the exposition:\n%s", body)
	}
}

// TestSetCopies: the State keeps its own copy; changing the caller's
// slices after Set changes nothing served.
func TestSetCopies(t *testing.T) {
	var st State
	s := fullSnapshot()
	if err := st.Set(s); err != nil {
		t.Fatal(err)
	}
	s.Apps[0].Last[0].Outcome = "garbage"
	s.Apps[0].Bucket.Backups = -1
	got := st.Snapshot()
	if got.Apps[0].Last[0].Outcome != dbbackup.Error || got.Apps[0].Bucket.Backups != 7 {
		t.Fatalf("the served snapshot follows the caller's: %+v", got.Apps[0])
	}
}
