package artefact

import (
	"bytes"
	"context"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// The forgery found with the real CLI on a real versitygw: back up with a
// key; replace the data object with the unencrypted data object of another
// backup (a CRC-sealed object of other content, as a dbbackup without a key
// writes it); update only the part's sizes and checksums (and the totals)
// in manifest.json, leaving its encryption fields, key fingerprint and MAC.
// A restore with the key must refuse it before the consumer gets a byte,
// and so must it when the manifest is left alone.
func TestKeyedRestoreRefusesAForgedPartOnVersityGW(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "forgery")
	st, err := s3.New(srv.StorageConfig("forgery"), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := bytes.Repeat([]byte{0x3c}, KeySize)
	data, forged := testData(700<<10+3), bytes.Repeat([]byte("DROP TABLE customers;\n"), 5000)
	const prefix = "pg/job-1/"
	for _, editManifest := range []bool{true, false} {
		for _, o := range []struct {
			job  string
			key  []byte
			data []byte
		}{{"job-1", key, data}, {"forger", nil, forged}} {
			if err := Delete(ctx, st, "pg/"+o.job+"/"); err != nil {
				t.Fatal(err)
			}
			if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: o.job, Key: o.key, Compression: true, FrameSize: 64 << 10}, fakeDump(o.data)); err != nil {
				t.Fatal(err)
			}
		}
		var got bytes.Buffer
		if _, _, err := Restore(ctx, st, prefix, RestoreOptions{Key: key}, collect(&got)); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("the backup as written: restored %d bytes, err %v", got.Len(), err)
		}
		m, err := ReadManifest(ctx, st, prefix)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := ReadManifest(ctx, st, "pg/forger/")
		if err != nil {
			t.Fatal(err)
		}
		if fm.Parts[0].Name != m.Parts[0].Name {
			t.Fatalf("the forger's part %s is not named as the part it replaces, %s", fm.Parts[0].Name, m.Parts[0].Name)
		}
		obj := readAll(t, st, "pg/forger/"+fm.Parts[0].Name)
		if obj[5] != sealCRC32C {
			t.Fatalf("the forged object is sealed with %d, want crc32c", obj[5])
		}
		putBytes(t, st, prefix+m.Parts[0].Name, obj)
		if editManifest {
			p := &m.Parts[0]
			p.RawBytes, p.RawSHA256, p.StoredBytes, p.SHA256 = fm.Parts[0].RawBytes, fm.Parts[0].RawSHA256, fm.Parts[0].StoredBytes, fm.Parts[0].SHA256
			m.RawBytes, m.RawSHA256, m.StoredBytes = fm.RawBytes, fm.RawSHA256, fm.StoredBytes
			b, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			putBytes(t, st, prefix+ManifestName, b)
		}
		mention := "MAC"
		if !editManifest {
			mention = m.Parts[0].Name
		}
		t.Run(map[bool]string{true: "manifest checksums updated", false: "manifest untouched"}[editManifest], func(t *testing.T) {
			assertRefused(t, st, prefix, key, ErrNotAuthentic, mention)
		})
	}
}
