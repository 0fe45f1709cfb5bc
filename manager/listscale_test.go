package manager

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
	"github.com/dbbackup/dbbackup/store/s3"
)

// BenchmarkListBackupsAtScale fills the bucket with backups of three
// applications (10,000 unless DBBACKUP_BENCH_BACKUPS says otherwise; each
// a real manifest and its index entry, without data) and times one call
// of list-backups through the real manager charm, once the cards
// exist, against a full listing of the bucket's objects in the same run.
// It reports list-backups-ms, bucket-listing-ms and backups; it checks
// that pages of 300 reach every backup once.
//
//	DBBACKUP_BENCH_BACKUPS=300 go test -run '^$' -bench ListBackupsAtScale -benchtime 1x ./manager/
func BenchmarkListBackupsAtScale(b *testing.B) {
	n := 10000
	if v := os.Getenv("DBBACKUP_BENCH_BACKUPS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 || n > 100000 {
			b.Fatalf("DBBACKUP_BENCH_BACKUPS=%q: give 3 to 100000", v)
		}
	}
	s := newSimTB(b, 1)
	s.addS3("v0", "")
	apps := []string{"pg", "my", "maria"}
	for _, app := range apps {
		s.addDB(app, "postgresql")
	}
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	fillBucket(b, st, apps, n)
	// The first listing reads every index entry and writes the cards.
	if got, _ := s.listIDs(map[string]any{"limit": 1}); len(got) != 1 {
		b.Fatalf("first listing: %v", got)
	}
	for b.Loop() {
		start := time.Now()
		res, err := s.m.RunAction(s.ctx, "manager/0", "list-backups", map[string]any{"format": "json", "limit": maxRows})
		took := time.Since(start)
		if err != nil || res.Status != "completed" || res.Results["count"] != strconv.Itoa(n) {
			b.Fatalf("list-backups: %v %s %v", err, res.Status, res.Results["count"])
		}
		b.ReportMetric(float64(took.Milliseconds()), "list-backups-ms")
		start = time.Now()
		objects := 0
		for _, err := range st.List(s.ctx, "", store.ListOptions{Recursive: true}) {
			if err != nil {
				b.Fatal(err)
			}
			objects++
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "bucket-listing-ms")
		b.ReportMetric(float64(objects), "objects")
	}
	b.ReportMetric(float64(n), "backups")
	// Every backup is reached by paging, once.
	seen := map[string]bool{}
	for offset := 0; offset < n; offset += maxRows {
		page, _ := s.listIDs(map[string]any{"limit": maxRows, "offset": offset})
		for _, id := range page {
			if seen[id] {
				b.Fatalf("backup %s on two pages", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		b.Fatalf("paging reached %d of %d backups", len(seen), n)
	}
}

// fillBucket writes n backups spread over apps: a real manifest (taken
// from a small backup) renamed for each, and its index entry.
func fillBucket(b *testing.B, st store.Store, apps []string, n int) {
	b.Helper()
	ctx := context.Background()
	mem := memstore.New()
	tmpl, err := artefact.Backup(ctx, mem, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "t", JobID: "job-t"},
		func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			w.Write([]byte("x"))
			return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, ServerVersion: "15.4"}, nil
		})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				m := tmpl
				at := t0.Add(time.Duration(i) * time.Hour)
				m.Scope, m.JobID = apps[i%len(apps)], fmt.Sprintf("job-%s-%08x", at.Format("20060102T150405Z"), i)
				m.StartedAt, m.FinishedAt = at, at.Add(time.Minute)
				data, err := m.Marshal()
				if err == nil {
					_, err = st.Put(ctx, m.Ref().Path()+artefact.ManifestName, bytes.NewReader(data), store.PutOptions{})
				}
				if err == nil {
					_, err = st.Put(ctx, m.Ref().IndexKey(), bytes.NewReader(data), store.PutOptions{})
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}
