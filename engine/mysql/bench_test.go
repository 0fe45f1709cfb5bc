package mysql_test

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

// BenchmarkRoundTripMariaDB dumps a database of a million varied rows (about
// the size of pgbench scale 10) to a file, drops it, restores it from a
// pipe and compares every table. It reports the dump and restore speeds.
//
//	go test -run '^$' -bench RoundTripMariaDB -benchtime 1x ./engine/mysql
func BenchmarkRoundTripMariaDB(b *testing.B) {
	m := testenv.StartMariaDB(b)
	m.SQL(b, "", variedSQL("bench", 1_000_000))
	want := m.Checksums(b, "bench")
	e := newEngine(m, "bench")
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
		m.SQL(b, "", "DROP DATABASE bench")
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if _, err := e.Restore(ctx, engine.RestoreSpec{}, struct{ io.Reader }{f}); err != nil {
			b.Fatal(err)
		}
		restore := time.Since(start)
		f.Close()
		if d := testenv.DiffSums(want, m.Checksums(b, "bench")); len(d) > 0 {
			b.Fatalf("restored database differs:\n%s", strings.Join(d, "\n"))
		}
		mb := float64(res.Bytes) / 1e6
		b.ReportMetric(mb, "MB")
		b.ReportMetric(mb/dump.Seconds(), "dump-MB/s")
		b.ReportMetric(mb/restore.Seconds(), "restore-MB/s")
	}
}
