package manager

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestDeleteObjectsRemovesOneBackup gives deleteObjects (what delete-backup
// and retention call) a scope, a storage path and a missing backup: each
// is refused and the bucket keeps every object; a failed backup (start
// marker and log) and a complete one are deleted with their objects
// counted.
func TestDeleteObjectsRemovesOneBackup(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	cfg := srv.StorageConfig("backups")
	cfg.Path = "site"
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, strings.Repeat("COPY t FROM stdin;\n", 1000))
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}}, nil
	}
	for _, id := range []string{"job-1", "job-2"} {
		if _, err := artefact.Backup(ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: id}, dump); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("pg_dump: connection lost")
	if _, err := artefact.Backup(ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-f"}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		return engine.Result{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing backup: %v", err)
	}
	count := func() int {
		rst, err := s3.NewRoot(cfg, s3.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range rst.List(ctx, "", store.ListOptions{Recursive: true}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	all := count()
	for _, p := range []string{"site/pg/", "site/", "site/pg/job-404/"} {
		if n, err := deleteObjects(ctx, cfg, p); err == nil {
			t.Errorf("deleteObjects(%s) = %d, nil; want a refusal", p, n)
		}
	}
	if _, err := deleteObjects(ctx, cfg, "site/pg/job-404/"); err == nil || !strings.Contains(err.Error(), "no backup at site/pg/job-404/") {
		t.Errorf("deleteObjects(missing) = %v, want \"no backup at\"", err)
	}
	if got := count(); got != all {
		t.Fatalf("the refused deletions left %d objects of %d", got, all)
	}
	if n, err := deleteObjects(ctx, cfg, "site/pg/job-f/"); err != nil || n != 2 {
		t.Errorf("deleteObjects(failed backup) = %d, %v; want its 2 objects (start marker and log)", n, err)
	}
	// A complete backup: manifest, start marker, data, log, index entry
	// and card.
	if n, err := deleteObjects(ctx, cfg, "site/pg/job-1/"); err != nil || n != 6 {
		t.Errorf("deleteObjects(job-1) = %d, %v; want 6 objects", n, err)
	}
	if got, want := count(), all-8; got != want {
		t.Errorf("after two deletions the bucket holds %d objects, want %d", got, want)
	}
	if _, err := artefact.Verify(ctx, st, "pg/job-2/", nil); err != nil {
		t.Errorf("verify job-2: %v", err)
	}
}
