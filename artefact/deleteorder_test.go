package artefact

import (
	"context"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// failingDelete fails the deletion of objects named name.
type failingDelete struct {
	store.Store
	name    string
	deleted []string
}

var errDeleteFails = errors.New("delete fails")

func (f *failingDelete) Delete(ctx context.Context, key string) error {
	if path.Base(key) == f.name {
		return errDeleteFails
	}
	f.deleted = append(f.deleted, key)
	return f.Store.Delete(ctx, key)
}

// TestDeleteCutShortLeavesAnIncompleteBackup cuts a deletion short at each
// of a backup's objects: what is left is never a complete backup, and a
// second Delete removes it.
func TestDeleteCutShortLeavesAnIncompleteBackup(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{ManifestName, "postgresql-logical" + dataSuffix, LogName, StartedName} {
		t.Run(name, func(t *testing.T) {
			mem := memstore.New()
			if _, err := Backup(ctx, mem, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, fakeDump(testData(1<<20))); err != nil {
				t.Fatal(err)
			}
			st := &failingDelete{Store: mem, name: name}
			if err := Delete(ctx, st, "pg/job-1/"); !errors.Is(err, errDeleteFails) {
				t.Fatalf("Delete = %v, want %v", err, errDeleteFails)
			}
			if len(st.deleted) < 2 || !strings.HasPrefix(st.deleted[0], "pg/_cards/job-1~") || st.deleted[1] != "pg/_index/job-1" {
				t.Errorf("deleted %v, want the card first, then the index entry", st.deleted)
			}
			if _, err := ReadManifest(ctx, mem, "pg/job-1/"); name != ManifestName && !errors.Is(err, ErrIncomplete) {
				t.Errorf("after a deletion cut short at %s: ReadManifest = %v, want ErrIncomplete", name, err)
			}
			if err := Delete(ctx, mem, "pg/job-1/"); err != nil {
				t.Fatalf("second Delete: %v", err)
			}
			for obj, err := range mem.List(ctx, "", store.ListOptions{Recursive: true}) {
				if err != nil {
					t.Fatal(err)
				}
				t.Errorf("left %s", obj.Key)
			}
		})
	}
}
