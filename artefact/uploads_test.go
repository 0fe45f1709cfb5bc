package artefact_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
	"github.com/dbbackup/dbbackup/store/s3"
)

func uploadKeys(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	ups, err := artefact.Uploads(context.Background(), st, prefix)
	if err != nil {
		t.Fatalf("Uploads(%q): %v", prefix, err)
	}
	var keys []string
	for _, u := range ups {
		if u.ID == "" || u.Initiated.IsZero() {
			t.Errorf("upload %+v lacks its id or initiated time", u)
		}
		keys = append(keys, u.Key)
	}
	return keys
}

// testUploads leaves uploads behind as killed backups do, under a storage
// path, and lists and aborts them by scope and by backup folder; a backup
// whose dump fails after several parts leaves none.
func testUploads(t *testing.T, srv *testenv.S3Server) {
	ctx := context.Background()
	srv.CreateBucket(t, "backups")
	for _, key := range []string{"team/pg/job-1/data.zst", "team/pg/job-2/data.zst", "team/pg/job-2/backup.log", "team/my/job-3/data.zst", "other/pg/job-4/data.zst"} {
		srv.StartUpload(t, "backups", key)
	}
	cfg := srv.StorageConfig("backups")
	cfg.Path = "team"
	st, err := s3.New(cfg, s3.Options{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"my/job-3/data.zst", "pg/job-1/data.zst", "pg/job-2/backup.log", "pg/job-2/data.zst"}},
		{"pg/", []string{"pg/job-1/data.zst", "pg/job-2/backup.log", "pg/job-2/data.zst"}},
		{"pg/job-2/", []string{"pg/job-2/backup.log", "pg/job-2/data.zst"}},
		{"pg/job-9/", nil},
	} {
		if got := uploadKeys(t, st, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("Uploads(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}

	n, err := artefact.AbortUploads(ctx, st, "pg/job-2/")
	if err != nil || n != 2 {
		t.Fatalf("AbortUploads(pg/job-2/) = %d, %v; want 2", n, err)
	}
	if n, err := artefact.AbortUploads(ctx, st, "pg/job-2/"); err != nil || n != 0 {
		t.Errorf("second AbortUploads(pg/job-2/) = %d, %v; want 0", n, err)
	}
	for _, bad := range []string{"", "pg/", "pg", "pg/job-1", "pg/job-1/data.zst/", "pg/_index/", "../x/"} {
		if _, err := artefact.AbortUploads(ctx, st, bad); err == nil {
			t.Errorf("AbortUploads(%q) succeeded, want a refusal", bad)
		}
	}
	got := srv.Uploads(t, "backups")
	slices.Sort(got)
	if want := []string{"other/pg/job-4/data.zst", "team/my/job-3/data.zst", "team/pg/job-1/data.zst"}; !slices.Equal(got, want) {
		t.Errorf("server's uploads after aborting pg/job-2/'s = %q, want %q", got, want)
	}

	// A dump that fails after several parts: the backup fails and leaves
	// no upload of its own.
	boom := errors.New("pg_dump: error: connection to server lost")
	_, err = artefact.Backup(ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-5"}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		if _, err := io.CopyN(w, rand.Reader, 23<<20); err != nil {
			return engine.Result{}, err
		}
		return engine.Result{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Backup err = %v, want the producer's", err)
	}
	if got := uploadKeys(t, st, "pg/job-5/"); len(got) != 0 {
		t.Errorf("the failed backup left uploads %q", got)
	}
}

func TestUploadsVersityGW(t *testing.T) { testUploads(t, testenv.StartVersityGW(t)) }

func TestUploadsMinIO(t *testing.T) { testUploads(t, testenv.StartMinIO(t)) }

func TestUploadsOfAStoreWithout(t *testing.T) {
	if _, err := artefact.Uploads(context.Background(), memstore.New(), ""); !errors.Is(err, artefact.ErrUploadsUnsupported) {
		t.Errorf("Uploads of a memstore: err = %v, want ErrUploadsUnsupported", err)
	}
	if _, err := artefact.AbortUploads(context.Background(), memstore.New(), "pg/job-1/"); !errors.Is(err, artefact.ErrUploadsUnsupported) {
		t.Errorf("AbortUploads of a memstore: err = %v, want ErrUploadsUnsupported", err)
	}
}

// TestDeleteAbortsTheBackupsUploads: deleting a backup (from the bucket's
// root, as the command line does) also aborts what its killed run was
// still uploading, and only that: the upload of a neighbour stays.
func TestDeleteAbortsTheBackupsUploads(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	ctx := context.Background()
	st, err := s3.New(srv.StorageConfig("backups"), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"job-1", "job-2"} {
		if _, err := st.Put(ctx, "team/pg/"+id+"/"+artefact.StartedName, io.LimitReader(rand.Reader, 10), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		srv.StartUpload(t, "backups", "team/pg/"+id+"/postgresql-logical.zst.dbbk")
	}
	if err := artefact.Delete(ctx, st, "team/pg/job-1/"); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.Uploads(t, "backups"), []string{"team/pg/job-2/postgresql-logical.zst.dbbk"}; !slices.Equal(got, want) {
		t.Fatalf("uploads after deleting team/pg/job-1/ = %q, want %q", got, want)
	}
	// A store without uploads still deletes.
	ms := memstore.New()
	if _, err := ms.Put(ctx, "pg/job-1/"+artefact.StartedName, io.LimitReader(rand.Reader, 10), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := artefact.Delete(ctx, ms, "pg/job-1/"); err != nil {
		t.Fatalf("Delete on a store without uploads: %v", err)
	}
}
