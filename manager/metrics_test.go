package manager

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/metrics"
)

// metricsWorld is a leader's view with pg (daily at 02:00) and my (no
// schedule) related.
func metricsWorld(t *testing.T, now time.Time, cfg config, recs ...requirer.Record) *world {
	t.Helper()
	cfg.BackupSchedule = "pg=0 2 * * *"
	p, err := parsePolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &world{now: now, leader: true, cfg: cfg, policy: p,
		rel:     relations{databases: map[string]string{"pg": "database-backup:1", "my": "database-backup:2"}},
		history: requirer.History{Records: recs}}
}

func rec(id, app string, typ dbbackup.JobType, st dbbackup.Status, start, end time.Time) requirer.Record {
	return requirer.Record{JobID: id, Application: app, Type: typ, Status: st, RequestedAt: start, StartedAt: start, FinishedAt: end}
}

// The leader's snapshot: last success, last outcomes (lost counts as an
// error, a running job not at all), counters that count each job once,
// the schedule's next slot (a missed one stays due), the thresholds, and
// the listings and checks carried over from the previous hook.
func TestMetricsSnapshot(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	w := metricsWorld(t, now, config{},
		rec("job-1", "pg", dbbackup.Backup, dbbackup.Success, h(-30), h(-29)),
		rec("job-2", "pg", dbbackup.Backup, dbbackup.Lost, h(-5), h(-4)),
		rec("job-3", "pg", dbbackup.Backup, dbbackup.Running, h(-1), time.Time{}),
		rec("job-4", "my", dbbackup.Restore, dbbackup.Error, h(-3), h(-2)),
	)
	// pg's schedule handled the slot of 02:00 yesterday only: today's is
	// due and not handled.
	w.peer.schedule = requirer.ScheduleStates{"pg": {Spec: "0 2 * * *", Last: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}}
	w.noteListing("pg", []artefact.Summary{{Scope: "pg", JobID: "job-2", Complete: true, StoredBytes: 100}, {Scope: "pg", StoredBytes: 7}, {Scope: "my", Complete: true, StoredBytes: 1}})
	w.peer.check = s3Check{OK: true}
	p := w.metricsSnapshot("127.0.0.1:9570", metrics.Published{}, true)
	if _, err := p.Marshal(); err != nil {
		t.Fatal(err)
	}
	pg, ok := p.Snapshot.Find("pg", "")
	if !ok {
		t.Fatalf("no pg in %+v", p.Snapshot)
	}
	if !pg.LastSuccess.Equal(h(-29)) || len(pg.Last) != 1 || pg.Last[0].Outcome != dbbackup.Error || !pg.Last[0].Ended.Equal(h(-4)) {
		t.Errorf("pg last: %v %+v", pg.LastSuccess, pg.Last)
	}
	if want := time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC); !pg.NextBackup.Equal(want) {
		t.Errorf("pg next backup %v, want the missed slot %v", pg.NextBackup, want)
	}
	if pg.MaxAge != 36*time.Hour {
		t.Errorf("pg threshold %v, want 36h from a daily schedule", pg.MaxAge)
	}
	if pg.Last[0].StoredBytes != 100 {
		t.Errorf("pg's last backup: %d bytes stored, want 100 from the listing", pg.Last[0].StoredBytes)
	}
	if pg.Bucket == nil || pg.Bucket.Backups != 1 || pg.Bucket.StoredBytes != 100 || !pg.Bucket.Listed.Equal(now) {
		t.Errorf("pg bucket %+v", pg.Bucket)
	}
	if pg.Storage == nil || !pg.Storage.Reachable || !pg.Storage.Checked.Equal(now) {
		t.Errorf("pg storage %+v", pg.Storage)
	}
	my, _ := p.Snapshot.Find("my", "")
	if my.MaxAge != 0 || !my.NextBackup.IsZero() || my.Bucket != nil || len(my.Last) != 1 || my.Last[0].Type != dbbackup.Restore {
		t.Errorf("my: %+v", my)
	}

	// The next hook: the history dropped job-1, job-3 succeeded; no
	// listing, no check; backup-max-age is set.
	w2 := metricsWorld(t, now.Add(time.Hour), config{BackupMaxAge: "90m"},
		rec("job-2", "pg", dbbackup.Backup, dbbackup.Lost, h(-5), h(-4)),
		rec("job-3", "pg", dbbackup.Backup, dbbackup.Success, h(-1), now.Add(time.Hour)),
		rec("job-4", "my", dbbackup.Restore, dbbackup.Error, h(-3), h(-2)),
	)
	p2 := w2.metricsSnapshot("127.0.0.1:9570", p, false)
	pg2, _ := p2.Snapshot.Find("pg", "")
	counts := map[string]uint64{}
	for _, c := range pg2.Counts {
		counts[string(c.Type)+" "+string(c.Outcome)] = c.Jobs
	}
	if counts["backup success"] != 2 || counts["backup error"] != 1 || len(counts) != 2 {
		t.Errorf("pg counts %v, want 2 successes and 1 error", counts)
	}
	if len(pg2.Last) != 1 || pg2.Last[0].StoredBytes != 0 {
		t.Errorf("a new backup kept the old one's size: %+v", pg2.Last)
	}
	if pg2.MaxAge != 90*time.Minute || pg2.Bucket == nil || pg2.Bucket.Backups != 1 || pg2.Storage == nil || !pg2.Storage.Checked.Equal(now) {
		t.Errorf("pg after: %+v", pg2)
	}
}

// The status puts the overdue backup first, as a warning, and blocks on
// an unusable metrics option.
func TestStaleBackupStatus(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	w := metricsWorld(t, now, config{BackupMaxAge: "24h"},
		rec("job-1", "pg", dbbackup.Backup, dbbackup.Success, now.Add(-27*time.Hour), now.Add(-26*time.Hour)),
		rec("job-2", "my", dbbackup.Backup, dbbackup.Success, now.Add(-2*time.Hour), now.Add(-time.Hour)),
	)
	w.peer.check = s3Check{OK: true}
	if got, want := w.staleText(), "warning: last backup of pg 26h ago (threshold 24h)"; got != want {
		t.Fatalf("stale text %q, want %q", got, want)
	}
	st, msg := unitStatus(statusInput{now: now, check: s3Check{OK: true}, databases: []string{"my", "pg"},
		history: w.history, stale: w.staleText(), next: now.Add(time.Hour), nextApp: "pg"})
	if st != goops.StatusActive || !strings.HasPrefix(msg, "warning: last backup of pg 26h ago (threshold 24h); last backup of my 1h ago") {
		t.Errorf("status %s %q", st, msg)
	}
	w.cfg.BackupMaxAge = "30h"
	if got := w.staleText(); got != "" {
		t.Errorf("within the threshold: %q", got)
	}
	for _, bad := range []config{{MetricsAddress: "example.com:9570"}, {BackupMaxAge: "1s"}} {
		_, err := bad.metricsConfig()
		if err == nil {
			t.Fatalf("%+v accepted", bad)
		}
		st, msg := unitStatus(statusInput{now: now, check: s3Check{OK: true}, metricsErr: err})
		if st != goops.StatusBlocked || !strings.HasPrefix(msg, "invalid config: ") {
			t.Errorf("%+v: status %s %q", bad, st, msg)
		}
	}
}

// Without a due time the ticker stays while it has metrics to serve and
// exits when they go.
func TestTickerServesWithoutSchedule(t *testing.T) {
	old := tickerRecheck
	tickerRecheck = 50 * time.Millisecond
	t.Cleanup(func() { tickerRecheck = old })
	dir := t.TempDir()
	path := filepath.Join(dir, metricsFile)
	if err := os.WriteFile(path, []byte(`{"address":"127.0.0.1:9570","snapshot":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	var log bytes.Buffer
	go func() { runTicker(ctx, dir, func(context.Context) error { return nil }, &log); close(done) }()
	select {
	case <-done:
		t.Fatalf("the ticker exited with metrics to serve: %s", log.String())
	case <-time.After(500 * time.Millisecond):
	}
	os.Remove(path)
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the ticker did not exit once the metrics went")
	}
}
