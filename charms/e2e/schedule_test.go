package e2e_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// scheduledJobs returns the ids of the backups the schedule requested.
func scheduledJobs(t *testing.T, s *model.Stack) []string {
	t.Helper()
	ids, err := s.Scheduled()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// backupsInBucket returns the job ids with a manifest under scope, sorted.
func backupsInBucket(t *testing.T, s *model.Stack, scope string) []string {
	t.Helper()
	st, err := s3.New(s.S3.StorageConfig(model.Bucket), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for obj, err := range st.List(s.Ctx, scope+"/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, scope+"/"), "/manifest.json"); ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Scheduled backups of a real PostgreSQL through the real agent, all
// deployed from their .charm files, on a clock the test moves: a daily
// schedule makes one backup per day, a three-day outage one catch-up;
// retention-count=2 deletes the older ones from the bucket as the new
// ones succeed; the catch-up backup restores the database.
func TestScheduleAndRetentionOnPostgres(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 25, 2, 59, 0, 0, time.UTC))
	s := start(t, model.Options{Postgres: true, Model: jujusim.Options{Clock: clock}})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g")
	leader := s.Leader()
	s.Must(s.M.Config(s.Ctx, model.Manager, map[string]string{"backup-schedule": "0 3 * * *", "retention-count": "2"}))
	s.Settle()
	if st, msg := s.M.UnitStatus(leader); st != "active" || !strings.HasPrefix(msg, "next backup of postgresql 2026-11-25T03:00Z") {
		t.Errorf("status = %s %q", st, msg)
	}
	tick := func(d time.Duration) string {
		t.Helper()
		before := len(scheduledJobs(t, s))
		clock.Advance(d)
		s.M.UpdateStatus()
		s.Settle()
		ids := scheduledJobs(t, s)
		if len(ids) != before+1 {
			t.Fatalf("at %v: %d scheduled backups, want %d", clock.Now(), len(ids), before+1)
		}
		wait(t, s, ids[len(ids)-1])
		return ids[len(ids)-1]
	}
	var ids []string
	ids = append(ids, tick(90*time.Second)) // 25th 03:00:30
	for i := 0; i < 2; i++ {
		ids = append(ids, tick(24*time.Hour)) // 26th, 27th
	}
	s.Settle()
	if got := backupsInBucket(t, s, model.Postgres); !slices.Equal(got, ids[1:]) {
		t.Errorf("after three daily backups the bucket holds %v, want %v (retention-count=2)", got, ids[1:])
	}
	want := s.PG.Checksums(t, "shop")
	// Down from the 27th to the 30th 03:00:30: the 28th, 29th and 30th passed.
	ids = append(ids, tick(72*time.Hour))
	if got := backupsInBucket(t, s, model.Postgres); !slices.Equal(got, ids[2:]) {
		t.Errorf("after the catch-up the bucket holds %v, want %v", got, ids[2:])
	}
	if n := len(scheduledJobs(t, s)); n != 4 {
		t.Errorf("%d scheduled backups, want 4", n)
	}
	s.PG.SQL(t, "shop", "DELETE FROM items WHERE id > 10")
	rid := ok(t, s, leader, "restore", map[string]any{"backup-id": ids[3]})["job-id"].(string)
	wait(t, s, rid)
	if diff := testenv.DiffSums(want, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("the catch-up backup did not restore the database: %v", diff)
	}
	deleted := ok(t, s, leader, "list-jobs", nil)["deleted"]
	for _, id := range ids[:2] {
		if tbl, _ := deleted.(string); !strings.Contains(tbl, id) || !strings.Contains(tbl, "retention-count=2") {
			t.Errorf("list-jobs does not show the deletion of %s:\n%v", id, deleted)
		}
	}
	noCanary(t, s)
}
