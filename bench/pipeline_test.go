package bench

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// BenchmarkPipelinePostgresText runs the backup pipeline in this process
// (so -cpuprofile and -memprofile see it) on the random-text dataset, and
// times its stages apart: the engine alone into io.Discard, then the whole
// backup to versitygw, then the restore into io.Discard.
//
//	go test -run '^$' -bench PipelinePostgresText -benchtime 1x -cpuprofile cpu.out ./bench
func BenchmarkPipelinePostgresText(b *testing.B) {
	p := testenv.StartPostgres(b)
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	st, err := s3.New(srv.StorageConfig("bench"), s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	loadPgText(b, p, "text", scale())
	conn := engine.Conn{Host: p.Host, Port: p.Port, User: p.User, Password: p.Password, Database: "text"}
	eng := postgres.New(conn, postgres.Options{BinDir: p.BinDir})
	ctx := context.Background()
	r := report{b: b, title: fmt.Sprintf("pipeline/text scale %d", scale())}
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := eng.Backup(ctx, engine.BackupSpec{}, io.Discard); err != nil {
			b.Fatal(err)
		}
		alone := time.Since(start)
		start = time.Now()
		i++
		ts := newTraceStore(st)
		m, err := artefact.Backup(ctx, ts, artefact.BackupOptions{Scope: "pg", JobID: fmt.Sprintf("job-%d", i), Engine: engine.PostgreSQL, Compression: true},
			func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
				return eng.Backup(ctx, engine.BackupSpec{Log: log}, w)
			})
		if err != nil {
			b.Fatal(err)
		}
		backup := time.Since(start)
		r.line("store calls of the backup:\n%s", ts)
		start = time.Now()
		if _, _, err := artefact.Restore(ctx, st, fmt.Sprintf("pg/job-%d/", i), artefact.RestoreOptions{},
			func(ctx context.Context, r io.Reader) (engine.Result, error) {
				_, err := io.Copy(io.Discard, r)
				return m.Engine, err
			}); err != nil {
			b.Fatal(err)
		}
		restore := time.Since(start)
		r.line("engine alone %.2fs, backup %.2fs, restore to io.Discard %.2fs (%.0f MiB raw)", alone.Seconds(), backup.Seconds(), restore.Seconds(), mib(m.RawBytes))
	}
}
