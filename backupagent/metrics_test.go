package backupagent

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/metrics"
	"github.com/dbbackup/dbbackup/runner"
)

// The unit's entry: its last jobs (a running one not counted), the bytes
// of its last backup, counters carried across hooks, and the threshold;
// a bad option is refused by name.
func TestUnitMetrics(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	recs := []runner.Record{
		{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Success, Started: t0, Finished: t0.Add(time.Minute), Bytes: 5000},
		{JobID: "j2", Type: dbbackup.Backup, Status: dbbackup.Error, Started: t0.Add(time.Hour), Finished: t0.Add(time.Hour + time.Second)},
		{JobID: "j3", Type: dbbackup.Backup, Status: dbbackup.Running, Started: t0.Add(2 * time.Hour)},
	}
	p := UnitMetrics("pg/1", recs, "127.0.0.1:9569", 0, UnitMetrics("pg/1", recs[:1], "127.0.0.1:9569", 0, metrics.Published{}))
	if _, err := p.Marshal(); err != nil {
		t.Fatal(err)
	}
	a, ok := p.Snapshot.Find("pg", "pg/1")
	if !ok || len(p.Snapshot.Apps) != 1 {
		t.Fatalf("snapshot %+v", p.Snapshot)
	}
	if !a.LastSuccess.Equal(t0.Add(time.Minute)) || len(a.Last) != 1 || a.Last[0].Outcome != dbbackup.Error {
		t.Errorf("last %v %+v", a.LastSuccess, a.Last)
	}
	var jobs uint64
	for _, c := range a.Counts {
		jobs += c.Jobs
	}
	if jobs != 2 {
		t.Errorf("counted %d jobs over two hooks, want 2: %+v", jobs, a.Counts)
	}
	// The runner forgets a job once the manager has its report; the unit's
	// last jobs stand until newer ones come.
	later := UnitMetrics("pg/1", nil, "127.0.0.1:9569", 0, p)
	if b, _ := later.Snapshot.Find("pg", "pg/1"); len(b.Last) != 1 || b.Last[0].Outcome != dbbackup.Error || !b.LastSuccess.Equal(a.LastSuccess) || b.Last[0].RawBytes != 0 {
		t.Errorf("after the journal forgot its jobs: %+v", b)
	}
	for _, c := range []MetricsConfig{{Address: "db.example.com:9569"}, {MaxAge: "forever"}} {
		if _, _, err := c.Check(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, d, err := (MetricsConfig{MaxAge: "26h"}).Check(); err != nil || d != 26*time.Hour {
		t.Errorf("26h: %v %v", d, err)
	}
}

// The runner's server follows what the hooks publish in the journal
// folder, and a bad config removes it.
func TestPublishAndServeMetrics(t *testing.T) {
	j := runner.Journal{Dir: t.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t0 := time.Now().Add(-time.Hour).UTC()
	recs := []runner.Record{{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Error, Started: t0, Finished: t0.Add(time.Second)}}
	if err := PublishMetrics(j, "pg/0", recs, MetricsConfig{Address: addr, MaxAge: "2h"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stop := ServeMetrics(ctx, j, io.Discard)
	defer stop()
	want := `dbbackup_last_job_outcome{application="pg",outcome="error",type="backup",unit="pg/0"} 1`
	var body string
	for ctx.Err() == nil && !strings.Contains(body, want) {
		time.Sleep(100 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	if !strings.Contains(body, want) || !strings.Contains(body, `dbbackup_backup_max_age_seconds{application="pg",unit="pg/0"} 7200`) {
		t.Fatalf("served:\n%s", body)
	}
	if err := PublishMetrics(j, "pg/0", recs, MetricsConfig{Address: "nowhere"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(j.Dir, MetricsFile)); !os.IsNotExist(err) {
		t.Errorf("a bad address left the metrics published: %v", err)
	}
}
