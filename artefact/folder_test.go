package artefact

import (
	"bytes"
	"context"
	"errors"
	"io"
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
	// The backup's own manifest still opens.
	if _, err := Open(ctx, st, "pg/job-2/", nil); err != nil {
		t.Fatal(err)
	}
}

// TestManifestVersionFollowsEncryption: an encrypted backup's manifest is
// version 2 (a version-1 reader refuses it plainly); version 1 with
// encryption (an older, unauthenticated manifest) and version 2 without it
// are refused.
func TestManifestVersionFollowsEncryption(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	key := bytes.Repeat([]byte{7}, KeySize)
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Key: key}, fakeDump(testData(3000)))
	if err != nil {
		t.Fatal(err)
	}
	if m.FormatVersion != ManifestVersionKeyed {
		t.Fatalf("encrypted backup's manifest is version %d, want %d", m.FormatVersion, ManifestVersionKeyed)
	}
	old := m
	old.FormatVersion = ManifestVersion
	if err := old.Validate(); !errors.Is(err, ErrBadManifest) || !bytes.Contains([]byte(err.Error()), []byte("format-version")) {
		t.Fatalf("encrypted manifest of version 1: %v", err)
	}
	p, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-2"}, fakeDump(testData(3000)))
	if err != nil || p.FormatVersion != ManifestVersion {
		t.Fatalf("unencrypted backup: version %d, err %v", p.FormatVersion, err)
	}
	p.FormatVersion = ManifestVersionKeyed
	if err := p.Validate(); !errors.Is(err, ErrBadManifest) {
		t.Fatalf("unencrypted manifest of version 2: %v", err)
	}
}

// TestStoredLogMasksSecretsWithoutGarbling: the log stored beside a backup
// masks a one-letter password where it stands alone and leaves the words
// around it whole.
func TestStoredLogMasksSecretsWithoutGarbling(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	produce := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(log, "pg_dump: job-does-not-exist; password x rejected; user:x@host\n")
		w.Write(testData(100))
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical}, nil
	}
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Secrets: []string{"x"}}, produce); err != nil {
		t.Fatal(err)
	}
	got := string(readAll(t, st, "pg/job-1/"+LogName))
	if want := "pg_dump: job-does-not-exist; password *** rejected; user:***@host\n"; got != want {
		t.Fatalf("stored log = %q, want %q", got, want)
	}
}
