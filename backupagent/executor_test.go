package backupagent

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestDatabaseInJournal: the database the charm records is what the
// runner reads, with its password, in a 0600 file; before any, a job
// fails with ErrNoDatabase.
func TestDatabaseInJournal(t *testing.T) {
	j := runner.Journal{Dir: filepath.Join(t.TempDir(), "j")}
	if _, err := ReadDatabase(j); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("ReadDatabase before SetDatabase = %v, want ErrNoDatabase", err)
	}
	x := &Executor{Scope: "pg", Database: func() (Database, error) { return ReadDatabase(j) }}
	if _, err := x.Run(context.Background(), dbbackup.Job{ID: "b1", Type: dbbackup.Backup}, func(int64, int64) {}); err == nil || err.Error() != ErrNoDatabase.Error() {
		t.Errorf("Run without a database = %v", err)
	}
	want := Database{Engine: engine.PostgreSQL, Host: "127.0.0.1", Port: 5432, User: "u", Password: "pw"}
	for i, c := range []bool{true, false} {
		if changed, err := SetDatabase(j, want); err != nil || changed != c {
			t.Errorf("SetDatabase #%d = %t, %v", i, changed, err)
		}
	}
	if got, err := ReadDatabase(j); err != nil || got != want {
		t.Errorf("ReadDatabase = %+v, %v", got, err)
	}
	if _, err := (Database{}).Open(); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Open of no database = %v", err)
	}
	if _, err := (Database{Engine: "oracle"}).Open(); err == nil {
		t.Error("Open of an unknown engine succeeded")
	}
}

// TestExecutorBackupRestore runs the composition root on real parts: a
// backup of a PostgreSQL database to versitygw lands at
// <path>/<scope>/<job-id>/, a restore of it brings back a dropped table,
// and a job with a wrong S3 key fails without printing the key.
func TestExecutorBackupRestore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := testenv.StartPostgres(t)
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "bkt")
	pg.SQL(t, "postgres", "CREATE DATABASE app")
	pg.SQL(t, "app", "CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 1000)")
	db := Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password, Database: "app", BinDir: pg.BinDir}
	x := &Executor{Scope: "pg", Database: func() (Database, error) { return db, nil }, Store: s3.Options{}}
	if err := x.Check(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := srv.StorageConfig("bkt")
	cfg.Path = "backups"
	var seen int64
	progress := func(b, _ int64) { seen = max(seen, b) }
	path, err := x.Run(ctx, dbbackup.Job{ID: "job-1", Type: dbbackup.Backup, Config: &dbbackup.JobConfig{Compression: true}, Storage: cfg}, progress)
	if err != nil {
		t.Fatal(err)
	}
	if path != "backups/pg/job-1/" || seen == 0 {
		t.Errorf("backup: path %q, progress %d bytes", path, seen)
	}
	pg.SQL(t, "app", "DROP TABLE t")
	got, err := x.Run(ctx, dbbackup.Job{ID: "job-2", Type: dbbackup.Restore, Config: &dbbackup.JobConfig{}, Storage: cfg, ArtefactPath: path}, progress)
	if err != nil || got != path {
		t.Fatalf("restore = %q, %v", got, err)
	}
	if n := strings.TrimSpace(pg.SQL(t, "app", "SELECT count(*) FROM t")); n != "1000" {
		t.Errorf("restored %s rows, want 1000", n)
	}
	bad := cfg
	bad.SecretKey = "CANARY-wrong-key-3c9d"
	_, err = x.Run(ctx, dbbackup.Job{ID: "job-3", Type: dbbackup.Backup, Config: &dbbackup.JobConfig{}, Storage: bad}, progress)
	if err == nil || strings.Contains(err.Error(), bad.SecretKey) || strings.Contains(err.Error(), pg.Password) {
		t.Errorf("backup with a wrong key = %v", err)
	}
	_, err = x.Run(ctx, dbbackup.Job{ID: "job-4", Type: dbbackup.Restore, Config: &dbbackup.JobConfig{}, Storage: cfg, ArtefactPath: "backups/pg/nothing/"}, progress)
	if err == nil || !strings.Contains(err.Error(), "no complete backup") {
		t.Errorf("restore of nothing = %v", err)
	}
}
