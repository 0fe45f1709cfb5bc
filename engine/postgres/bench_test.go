package postgres_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// BenchmarkRoundTripPgbench10 dumps a pgbench database of scale 10 (one
// million accounts) to a file, drops it, restores it from a pipe and
// compares every table: the acceptance test at size, kept out of the
// regular tests for its minutes. It reports the dump and restore speeds.
//
//	go test -run '^$' -bench RoundTripPgbench10 -benchtime 1x ./engine/postgres
func BenchmarkRoundTripPgbench10(b *testing.B) {
	p := testenv.StartPostgres(b)
	p.Pgbench(b, "bench", 10)
	p.SQL(b, "bench", variedSQL)
	want := p.Checksums(b, "bench")
	e := newEngine(p, "bench")
	ctx := context.Background()
	for b.Loop() {
		f, err := os.CreateTemp(b.TempDir(), "dump")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := e.Backup(ctx, engine.BackupSpec{}, f)
		if err != nil {
			b.Fatal(err)
		}
		dump := time.Since(start)
		p.SQL(b, "postgres", "DROP DATABASE bench")
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		// Through a pipe, as from the artefact pipeline.
		if _, err := e.Restore(ctx, engine.RestoreSpec{}, struct{ io.Reader }{f}); err != nil {
			b.Fatal(err)
		}
		restore := time.Since(start)
		f.Close()
		if d := testenv.DiffSums(want, p.Checksums(b, "bench")); len(d) > 0 {
			b.Fatalf("restored database differs:\n%s", strings.Join(d, "\n"))
		}
		mb := float64(res.Bytes) / 1e6
		b.ReportMetric(mb, "MB")
		b.ReportMetric(mb/dump.Seconds(), "dump-MB/s")
		b.ReportMetric(mb/restore.Seconds(), "restore-MB/s")
	}
}
