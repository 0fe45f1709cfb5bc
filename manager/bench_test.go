package manager

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/store/s3"
)

// completedHistory returns a history of n finished backups of app.
func completedHistory(tb testing.TB, n int, app string) requirer.History {
	tb.Helper()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := requirer.History{Records: make([]requirer.Record, n)}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		id := requirer.NewJobID(at, bytes.NewReader([]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}))
		h.Records[i] = requirer.Record{
			JobID: id, Application: app, Type: dbbackup.Backup, Compression: true, Source: requirer.FromAction,
			Storage:     requirer.Storage{Bucket: "backups", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", URIStyle: "path"},
			RequestedAt: at, StartedAt: at, SeenAt: at.Add(30 * time.Second), FinishedAt: at.Add(30 * time.Second),
			Unit: app + "/0", Status: dbbackup.Success, ArtefactPath: app + "/" + id + "/",
		}
	}
	return h
}

// BenchmarkHookWith1000Jobs times the manager's update-status hook, the
// one every unit runs every five minutes, with no job and with 1,000
// completed jobs in the history, in jujusim with a real S3 server (the leader checks the
// bucket on update-status). It reports the median and p99 in ms.
func BenchmarkHookWith1000Jobs(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) { benchmarkHook(b, n) })
	}
}

func benchmarkHook(b *testing.B, jobs int) {
	s := newBenchSim(b)
	text, err := completedHistory(b, jobs, "pg").Marshal()
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := yaml.Marshal(map[string]string{requirer.HistoryKey: text})
	file := filepath.Join(b.TempDir(), "history.yaml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		b.Fatal(err)
	}
	res, err := s.m.Exec(s.ctx, "manager/0", "relation-set -r $(relation-ids "+peerEndpoint+") --app --file "+file)
	if err != nil || res.Code != 0 {
		b.Fatalf("seeding the history: %v %+v", err, res)
	}
	b.ReportMetric(float64(len(text)), "history-bytes")
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		before := len(s.m.Timeline())
		s.m.UpdateStatus()
		if err := s.m.Settle(s.ctx, 100); err != nil {
			b.Fatal(err)
		}
		times = append(times, hookTimes(s, before, "manager/0", "update-status")...)
	}
	b.StopTimer()
	if st, msg := s.m.UnitStatus("manager/0"); st != "active" {
		b.Fatalf("manager/0: %s %q", st, msg)
	}
	slices.Sort(times)
	if len(times) > 0 {
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
		b.ReportMetric(float64(times[(len(times)*99)/100].Microseconds())/1000, "p99-ms")
	}
}

// newBenchSim is newSim for a benchmark: the manager, a fake provider and
// the s3 stand-in on a real versitygw.
func newBenchSim(b *testing.B) *sim {
	b.Helper()
	s := newSimTB(b, 1)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	return s
}

// hookTimes returns how long each hook named hook ran on unit, from the
// timeline events after the first skip.
func hookTimes(s *sim, skip int, unit, hook string) []time.Duration {
	var out []time.Duration
	var start time.Time
	for _, e := range s.m.Timeline()[skip:] {
		if e.Unit != unit || e.Kind != "hook" {
			continue
		}
		switch e.Text {
		case hook + " start":
			start = e.Time
		case hook + " done":
			out = append(out, e.Time.Sub(start))
		}
	}
	return out
}

// BenchmarkRelationDatabag10000Completed runs 10,000 backups through the
// manager's decisions (request, relation databag, report, merge) and
// reports the size of the relation databag the provider reads, and of the
// stored history, at the end: both stay bounded however many jobs ran.
// One run takes about 14 s: use -benchtime 1x.
func BenchmarkRelationDatabag10000Completed(b *testing.B) {
	storage := dbbackup.StorageConfig{Bucket: "backups", Credentials: dbbackup.Credentials{AccessKey: "AK", SecretKey: "SK"}, Endpoint: "http://127.0.0.1:9000"}
	for b.Loop() {
		var h requirer.History
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		maxBag := 0
		bag := dbbackup.Databag{}
		for i := range 10000 {
			now := t0.Add(time.Duration(i) * time.Minute)
			id := fmt.Sprintf("job-%08d", i)
			var err error
			h, err = requirer.Request(h, requirer.Record{JobID: id, Application: "pg", Type: dbbackup.Backup, Compression: true,
				Source: requirer.FromAction, Storage: requirer.StorageOf(storage), RequestedAt: now})
			if err != nil {
				b.Fatal(err)
			}
			jobs, err := requirer.RelationJobs(h, "pg", storage, 10)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := bag.SetJobs(jobs, dbbackup.Requirer); err != nil {
				b.Fatal(err)
			}
			maxBag = max(maxBag, len(bag[dbbackup.JobsKey]))
			done := jobs[len(jobs)-1].Redacted()
			done.Status, done.ArtefactPath = dbbackup.Success, "pg/"+id+"/"
			h, _ = requirer.Merge(h, "pg", map[string][]dbbackup.Job{"pg/0": {done}}, now.Add(30*time.Second), 24*time.Hour)
		}
		jobs, err := requirer.RelationJobs(h, "pg", storage, 10)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bag.SetJobs(jobs, dbbackup.Requirer); err != nil {
			b.Fatal(err)
		}
		text, err := h.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(bag[dbbackup.JobsKey])), "relation-bytes-end")
		b.ReportMetric(float64(maxBag), "relation-bytes-max")
		b.ReportMetric(float64(len(text)), "history-bytes")
		b.ReportMetric(float64(len(h.Records)), "history-records")
	}
}

// BenchmarkListBackupsMerge10000 joins 1,000 history records with 10,000
// backups found in the bucket and formats the table list-backups returns.
func BenchmarkListBackupsMerge10000(b *testing.B) {
	h := completedHistory(b, 1000, "pg")
	sums := make([]artefact.Summary, 10000)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range sums {
		id := fmt.Sprintf("job-%08d", i)
		if i < len(h.Records) {
			id = h.Records[i].JobID
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		sums[i] = artefact.Summary{Scope: "pg", JobID: id, Prefix: "pg/" + id + "/", Complete: true, Engine: engine.PostgreSQL,
			StoredBytes: int64(i) << 10, StartedAt: at, FinishedAt: at.Add(time.Minute)}
	}
	for b.Loop() {
		rows := mergeBackups(h, sums, true, "", "")
		if len(rows) != 10000 {
			b.Fatalf("%d rows", len(rows))
		}
		_ = backupTable(rows[:maxRows])
	}
}

// BenchmarkRetentionHook times the leader's update-status hook when
// retention runs (the clock moves an hour before each), with no backup of
// the application in the bucket and with 1,000 (retention-count=5000, so
// nothing is deleted and every run does the same work: list the scope,
// list its cards, decide). An iteration is one round of update-status on
// every unit (the manager, the fake provider, the s3 stand-in), timed on
// the wall clock (the model's clock is manual); the difference of the two
// sub-benchmarks is the cost of retention's listing.
func BenchmarkRetentionHook(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("backups=%d", n), func(b *testing.B) { benchmarkRetentionHook(b, n) })
	}
}

func benchmarkRetentionHook(b *testing.B, backups int) {
	clock := jujusim.NewManualClock(time.Now().UTC())
	s := newSimOpts(b, 1, jujusim.Options{Clock: clock})
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	produce := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		n, err := io.WriteString(w, "fake dump\n")
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Format: "fake", Databases: []string{"db"}, Bytes: int64(n)}, err
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range backups {
		id := requirer.NewJobID(t0.Add(time.Duration(i)*time.Minute), bytes.NewReader([]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}))
		if _, err := artefact.Backup(s.ctx, st, artefact.BackupOptions{Scope: "pg", JobID: id, Engine: engine.PostgreSQL, Compression: true}, produce); err != nil {
			b.Fatal(err)
		}
	}
	s.config("manager", map[string]string{"retention-count": "5000"})
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(time.Hour + time.Minute)
		s.m.UpdateStatus()
		if err := s.m.Settle(s.ctx, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := s.peerData()[retentionRunKey]; got != timeText(clock.Now()) {
		b.Fatalf("retention did not run in the last hook: retention-run %q, clock %s", got, timeText(clock.Now()))
	}
}
