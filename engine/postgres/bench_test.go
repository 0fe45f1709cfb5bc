package postgres_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// BenchmarkRestoreOverPgRestore restores one pgbench database of scale 3
// (DBBACKUP_BENCH_SCALE to change it) over itself, alternately by Restore (a prelude emptying the database,
// then pg_restore --file=- piped into psql, one transaction) and by the
// single pg_restore command used before ("--clean --if-exists --no-owner
// --single-transaction --exit-on-error"), both from a pipe, and reports
// their times and ratio from the same run.
//
//	go test -run '^$' -bench RestoreOverPgRestore -benchtime 3x ./engine/postgres
func BenchmarkRestoreOverPgRestore(b *testing.B) {
	scale := 3
	if s := os.Getenv("DBBACKUP_BENCH_SCALE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("DBBACKUP_BENCH_SCALE=%q: want a positive number", s)
		}
		scale = n
	}
	p := testenv.StartPostgres(b)
	p.Pgbench(b, "bench", scale)
	p.SQL(b, "bench", variedSQL)
	want := p.Checksums(b, "bench")
	e := newEngine(p, "bench")
	ctx := context.Background()
	dump := filepath.Join(b.TempDir(), "dump")
	f, err := os.Create(dump)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Backup(ctx, engine.BackupSpec{}, f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	timed := func(run func(io.Reader) error) time.Duration {
		f, err := os.Open(dump)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		if err := run(struct{ io.Reader }{f}); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if diff := testenv.DiffSums(want, p.Checksums(b, "bench")); len(diff) > 0 {
			b.Fatalf("restored database differs:\n%s", strings.Join(diff, "\n"))
		}
		return d
	}
	var ours, before time.Duration
	for b.Loop() {
		ours += timed(func(r io.Reader) error {
			_, err := e.Restore(ctx, engine.RestoreSpec{Unchecked: true}, r)
			return err
		})
		before += timed(func(r io.Reader) error {
			cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, "pg_restore"), "--clean", "--if-exists",
				"--no-owner", "--single-transaction", "--exit-on-error", "-d", "bench")
			cmd.Env, cmd.Stdin = p.Env(), r
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	}
	b.ReportMetric(ours.Seconds()/float64(b.N), "restore-s/op")
	b.ReportMetric(before.Seconds()/float64(b.N), "pg_restore-s/op")
	b.ReportMetric(ours.Seconds()/before.Seconds(), "ratio")
}
