package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/runner"
)

// BenchmarkHook1000Jobs times one agent hook (update-status, dispatch to
// exit, through jujusim) on the leader with 1,000 jobs in the requirer's
// databag, all finished: parse, Assign, UnitPlan, journal read, reports.
// The jobs fail fast (the database port is closed), so no server is needed.
// It reports the median and p99 hook time in ms.
func BenchmarkHook1000Jobs(b *testing.B) {
	const n = 1000
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	journal := runner.Journal{Dir: filepath.Join(m.Dir(), "units", "unit-agent-0", "dbbackup-runner")}
	b.Cleanup(func() {
		backupagent.StopRunner(journal)
		m.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := m.Deploy(ctx, "agent", model.Charm(b, "database-backup-agent"), 1); err != nil {
		b.Fatal(err)
	}
	if err := m.Deploy(ctx, "manager", model.Charm(b, "database-backup-agent/testdata/requirer"), 1); err != nil {
		b.Fatal(err)
	}
	uri, err := m.AddSecret(map[string]string{"password": "bench-password"}, "agent")
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Config(ctx, "agent", map[string]string{"engine": "postgresql", "host": "127.0.0.1", "port": "1",
		"user": "postgres", "password-secret": uri, "max-backups-per-unit": "0"}); err != nil {
		b.Fatal(err)
	}
	rel, err := m.Integrate(ctx, "agent:database-backup", "manager:database-backup")
	if err != nil {
		b.Fatal(err)
	}
	jobs := make([]dbbackup.Job, n)
	for i := range jobs {
		jobs[i] = dbbackup.Job{ID: fmt.Sprintf("job-%04d", i), Type: dbbackup.Backup, Config: &dbbackup.JobConfig{Compression: true},
			StorageInterface: dbbackup.StorageS3, Storage: dbbackup.StorageConfig{Bucket: "bk", Credentials: dbbackup.Credentials{AccessKey: "AK", SecretKey: "SK"},
				Endpoint: "http://127.0.0.1:1"}}
	}
	text, err := dbbackup.MarshalJobs(jobs, dbbackup.Requirer)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Config(ctx, "manager", map[string]string{"jobs": text}); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; {
		if err := m.Settle(ctx, 100000); err != nil {
			b.Fatal(err)
		}
		l := dbbackup.ParseJobs(m.RelationData(rel, "agent/0")["jobs"], dbbackup.Provider)
		done = 0
		for _, j := range l.Jobs() {
			if j.Status.Terminal() {
				done++
			}
		}
		if ctx.Err() != nil {
			b.Fatalf("only %d of %d jobs finished", done, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res, err := m.Exec(ctx, "agent/0", "JUJU_HOOK_NAME=update-status JUJU_DISPATCH_PATH=hooks/update-status ./dispatch")
		times = append(times, time.Since(start))
		if err != nil || res.Code != 0 {
			b.Fatalf("hook: %v %d %s", err, res.Code, strings.TrimSpace(res.Stderr))
		}
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(times[len(times)/2]), "median-ms")
	b.ReportMetric(ms(times[min(len(times)-1, len(times)*99/100)]), "p99-ms")
}
