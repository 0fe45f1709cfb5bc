package artefact_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// TestDeleteRemovesExactlyOneBackup tries to make Delete remove more than
// one backup, or report a deletion of nothing, on a real S3 server.
func TestDeleteRemovesExactlyOneBackup(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	under, root := newS3(t, srv, "team/a")
	ctx := context.Background()
	var calls atomic.Int32
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		if _, err := artefact.Backup(ctx, under, backupOpts(id), dump(&calls, 20000)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("pg_dump: connection lost")
	if _, err := artefact.Backup(ctx, under, backupOpts("job-f"), func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, strings.Repeat("x", 1<<20))
		return engine.Result{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing backup: %v, want %v", err, boom)
	}
	verifyAll := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			if _, err := artefact.Verify(ctx, root, "team/a/pg/"+id+"/", nil); err != nil {
				t.Errorf("verify %s: %v", id, err)
			}
		}
	}

	// Folders that hold backups, or are not a backup's, are refused.
	for _, p := range []string{"team/a/pg/", "team/a/", "team/", "", "/", "pg/job-1", "team/a/pg/_index/"} {
		err := artefact.Delete(ctx, root, p)
		if err == nil {
			t.Errorf("Delete(%q) = nil, want a refusal", p)
		}
		if errors.Is(err, artefact.ErrNoBackup) {
			t.Errorf("Delete(%q) = %v, want a refusal, not ErrNoBackup", p, err)
		}
	}
	if err := artefact.Delete(ctx, root, "team/a/pg/"); err == nil || !strings.Contains(err.Error(), "team/a/pg/ is not one backup: it holds folders") {
		t.Errorf("Delete(scope) = %v, want %q", err, "team/a/pg/ is not one backup: it holds folders")
	}
	verifyAll("job-1", "job-2", "job-3")

	// A backup folder with something nested in it is not one backup.
	if _, err := root.Put(ctx, "team/a/pg/job-1/nested/x", strings.NewReader("x"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := artefact.Delete(ctx, root, "team/a/pg/job-1/"); err == nil || !strings.Contains(err.Error(), "holds folders") {
		t.Errorf("Delete(folder with a sub-folder) = %v, want a refusal", err)
	}
	verifyAll("job-1")
	if err := root.Delete(ctx, "team/a/pg/job-1/nested/x"); err != nil {
		t.Fatal(err)
	}

	// Nothing there: ErrNoBackup, and nothing else touched.
	before := objects(t, root, "")
	err := artefact.Delete(ctx, root, "team/a/pg/job-404/")
	if !errors.Is(err, artefact.ErrNoBackup) || err.Error() != "no backup at team/a/pg/job-404/" {
		t.Errorf("Delete(missing job) = %v, want ErrNoBackup %q", err, "no backup at team/a/pg/job-404/")
	}
	if after := objects(t, root, ""); len(after) != len(before) {
		t.Errorf("Delete(missing job) changed the bucket: %d objects, were %d", len(after), len(before))
	}

	// A failed backup (start marker and log only) is one backup.
	if _, err := artefact.ReadManifest(ctx, root, "team/a/pg/job-f/"); !errors.Is(err, artefact.ErrIncomplete) || errors.Is(err, artefact.ErrNoBackup) {
		t.Errorf("ReadManifest(failed backup) = %v, want ErrIncomplete", err)
	}
	if err := artefact.Delete(ctx, root, "team/a/pg/job-f/"); err != nil {
		t.Errorf("Delete(failed backup): %v", err)
	}
	if left := objects(t, root, "team/a/pg/job-f/"); len(left) != 0 {
		t.Errorf("Delete(failed backup) left %v", left)
	}

	// One complete backup: its objects and index entry go, the others stay.
	if err := artefact.Delete(ctx, root, "team/a/pg/job-2/"); err != nil {
		t.Fatalf("Delete(job-2): %v", err)
	}
	for k := range objects(t, root, "") {
		if strings.Contains(k, "job-2") {
			t.Errorf("Delete(job-2) left %s", k)
		}
	}
	verifyAll("job-1", "job-3")
	_, err = artefact.ReadManifest(ctx, root, "team/a/pg/job-2/")
	if !errors.Is(err, artefact.ErrNoBackup) || errors.Is(err, artefact.ErrIncomplete) || !strings.Contains(err.Error(), "no backup at team/a/pg/job-2/") {
		t.Errorf("ReadManifest(deleted) = %v, want ErrNoBackup", err)
	}
	if _, err := artefact.Verify(ctx, root, "team/a/pg/job-2/", nil); !errors.Is(err, artefact.ErrNoBackup) {
		t.Errorf("Verify(deleted) = %v, want ErrNoBackup", err)
	}
	if err := artefact.Delete(ctx, root, "team/a/pg/job-2/"); !errors.Is(err, artefact.ErrNoBackup) {
		t.Errorf("second Delete(job-2) = %v, want ErrNoBackup", err)
	}
	sums, err := artefact.List(ctx, under, artefact.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range sums {
		ids = append(ids, s.JobID)
	}
	if got, want := strings.Join(ids, ","), "job-3,job-1"; got != want {
		t.Errorf("List after the deletions = %s, want %s", got, want)
	}
}
