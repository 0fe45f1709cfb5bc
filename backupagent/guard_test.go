package backupagent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestRunErrorKeepsItsChainAndNoSecret restores, through the runner's
// Executor on a real PostgreSQL and S3 server, a backup whose manifest is
// another backup's. The backup's job id is the database password, so the
// refusal's text holds a secret: the error the executor returns must mask
// it and still be artefact.ErrCorrupt for errors.Is.
func TestRunErrorKeepsItsChainAndNoSecret(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	pg := testenv.StartPostgres(t)
	cfg := srv.StorageConfig("backups")
	cfg.Path = "team"
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids := []string{pg.Password, "other-job"}
	for _, id := range ids {
		_, err := artefact.Backup(ctx, st, artefact.BackupOptions{Scope: "pg", JobID: id, Engine: engine.PostgreSQL}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			_, err := io.WriteString(w, "-- a dump\n")
			return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Format: "custom", Databases: []string{"app"}}, err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	other, err := st.Get(ctx, "pg/other-job/"+artefact.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(other)
	other.Close()
	if _, err := st.Put(ctx, "pg/"+pg.Password+"/"+artefact.ManifestName, bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e := &Executor{Scope: "pg", Database: func() (Database, error) {
		return Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password, Database: "postgres", BinDir: pg.BinDir}, nil
	}}
	job := dbbackup.Job{ID: "restore-1", Type: dbbackup.Restore, StorageInterface: dbbackup.StorageS3, Storage: cfg,
		ArtefactPath: artefact.Ref{Scope: "pg", JobID: pg.Password}.Under(cfg.Path).Path()}
	_, err = e.Run(ctx, job, func(int64, int64) {})
	if err == nil {
		t.Fatal("restore of a backup holding another's manifest succeeded")
	}
	if !errors.Is(err, artefact.ErrCorrupt) {
		t.Errorf("errors.Is(err, artefact.ErrCorrupt) = false after the guard: %v", err)
	}
	for _, s := range []string{pg.Password, cfg.AccessKey, cfg.SecretKey} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
	if !strings.Contains(err.Error(), dbbackup.Mask) {
		t.Errorf("error %q: want the password masked where the job id stood", err)
	}
}
