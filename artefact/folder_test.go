package artefact

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// TestManifestOfAnotherBackupIsRefusedFirst: a manifest copied from another
// backup's folder names that backup; with or without a key it is refused
// when the manifest is read, before the consumer gets a byte.
func TestManifestOfAnotherBackupIsRefusedFirst(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, id := range []string{"job-1", "job-2"} {
		if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: id}, fakeDump(testData(3000))); err != nil {
			t.Fatal(err)
		}
	}
	other := readAll(t, st, "pg/job-2/"+ManifestName)
	if _, err := st.Put(ctx, "pg/job-1/"+ManifestName, bytes.NewReader(other), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, _, err := Restore(ctx, st, "pg/job-1/", RestoreOptions{}, collect(&got))
	if !errors.Is(err, ErrCorrupt) || got.Len() != 0 {
		t.Fatalf("restore with job-2's manifest in job-1's folder: err %v, %d bytes reached the consumer", err, got.Len())
	}
	if _, err := Verify(ctx, st, "pg/job-1/", nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify: %v, want ErrCorrupt", err)
	}
	// Under a storage path (the command line opens the bucket's root) the
	// backup's own manifest still opens.
	if _, err := Open(ctx, st, "pg/job-2/", nil); err != nil {
		t.Fatal(err)
	}
}
