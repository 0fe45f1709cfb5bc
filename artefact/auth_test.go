package artefact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// counter is a consumer that counts what it is given.
type counter struct {
	n      int64
	called bool
}

func (c *counter) consume(ctx context.Context, r io.Reader) (engine.Result, error) {
	c.called = true
	n, err := io.Copy(io.Discard, r)
	c.n += n
	return engine.Result{}, err
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// framed returns content written as a part with the given sealing and no key.
func framed(t testing.TB, content []byte, sealing byte) []byte {
	return framedWithSalt(t, content, sealing, nil)
}

// framedWithSalt is framed with the header's salt chosen (nil: random), as
// a forger copying the salt of the part it replaces would write it.
func framedWithSalt(t testing.TB, content []byte, sealing byte, salt []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := newFrameWriterSealed(&buf, nil, 64<<10, sealing)
	if err != nil {
		t.Fatal(err)
	}
	if salt != nil {
		buf.Reset()
		header := bytes.Clone(fw.s.header)
		copy(header[10:42], salt)
		s, err := newSealer(header, nil)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(header)
		fw.s = s
	}
	fw.Write(content)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// forgePart does what who can write the bucket, but holds no key, can do to
// the encrypted backup m at prefix: it replaces the data part with an
// unencrypted part (sealed with sealing) holding content, and, when
// editManifest is set, updates the part's sizes and checksums and the
// totals in the manifest, leaving its encryption fields, key fingerprint
// and MAC as they were.
func forgePart(t *testing.T, st store.Store, prefix string, m Manifest, content []byte, sealing byte, editManifest bool) {
	t.Helper()
	obj := framed(t, content, sealing)
	putBytes(t, st, prefix+m.Parts[0].Name, obj)
	if !editManifest {
		return
	}
	p := &m.Parts[0]
	p.RawBytes, p.RawSHA256 = int64(len(content)), sha256Hex(content)
	p.StoredBytes, p.SHA256 = int64(len(obj)), sha256Hex(obj)
	m.RawBytes, m.StoredBytes, m.RawSHA256 = p.RawBytes, p.StoredBytes, p.RawSHA256
	if m.Encryption != EncryptionAES || m.MAC == "" || m.KeyFingerprint == "" {
		t.Fatalf("the forgery must leave the encryption fields as they were: %+v", m)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, st, prefix+ManifestName, b)
}

// editManifest rewrites the manifest at prefix as edit changes it, keeping
// its MAC.
func editManifest(t *testing.T, st store.Store, prefix string, edit func(m *Manifest)) {
	t.Helper()
	m, err := ParseManifest(readAll(t, st, prefix+ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	edit(&m)
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, st, prefix+ManifestName, b)
}

// assertRefused restores and verifies the backup at prefix with key and
// wants an error that wraps want, and a consumer that got no byte. When
// mention is set, the error must name it.
func assertRefused(t *testing.T, st store.Store, prefix string, key []byte, want error, mention string) {
	t.Helper()
	ctx := context.Background()
	for _, verifyFirst := range []bool{false, true} {
		var c counter
		_, _, err := Restore(ctx, st, prefix, RestoreOptions{Key: key, VerifyFirst: verifyFirst, SpoolDir: t.TempDir()}, c.consume)
		if !errors.Is(err, want) {
			t.Fatalf("verifyFirst=%v: restore err = %v, want %v", verifyFirst, err, want)
		}
		if c.n != 0 || c.called {
			t.Fatalf("verifyFirst=%v: the consumer was called (%v) and got %d bytes, want none", verifyFirst, c.called, c.n)
		}
		if mention != "" && !strings.Contains(err.Error(), mention) {
			t.Fatalf("verifyFirst=%v: err = %v, want it to name %s", verifyFirst, err, mention)
		}
	}
	if _, err := Verify(ctx, st, prefix, key); !errors.Is(err, want) {
		t.Fatalf("verify err = %v, want %v", err, want)
	}
}

// Who can write the bucket but holds no key cannot make a restore with the
// key hand on a byte that the key did not write for this backup.
func TestKeyedRestoreRefusesWhatTheKeyDidNotWrite(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, KeySize)
	otherKey := bytes.Repeat([]byte{0xa5}, KeySize)
	const prefix = "pg/job-1/"
	data := testData(300<<10 + 11)
	forged := []byte("DROP TABLE customers; -- the forger's content\n")
	backup := func(t *testing.T, st store.Store, job string, key []byte, data []byte) Manifest {
		t.Helper()
		m, err := Backup(context.Background(), st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: job, Key: key, FrameSize: 64 << 10}, fakeDump(data))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name    string
		key     []byte // the backup's
		restore []byte // given to the restore
		damage  func(t *testing.T, st store.Store, m Manifest)
		want    error
		mention string // named by the error, "part" for the data part's name
	}{
		{"forged unencrypted part, manifest checksums updated", key, key, func(t *testing.T, st store.Store, m Manifest) {
			forgePart(t, st, prefix, m, forged, sealCRC32C, true)
		}, ErrNotAuthentic, ""},
		{"forged unencrypted part, manifest untouched", key, key, func(t *testing.T, st store.Store, m Manifest) {
			forgePart(t, st, prefix, m, forged, sealCRC32C, false)
		}, ErrNotAuthentic, "part"},
		{"forged sha256-sealed part, manifest untouched", key, key, func(t *testing.T, st store.Store, m Manifest) {
			forgePart(t, st, prefix, m, forged, sealSHA256, false)
		}, ErrNotAuthentic, "part"},
		// The salt is no secret (the header shows it): only the sealing
		// check refuses this one.
		{"forged unencrypted part with the recorded salt, manifest untouched", key, key, func(t *testing.T, st store.Store, m Manifest) {
			salt, _ := hex.DecodeString(m.Parts[0].Salt)
			putBytes(t, st, prefix+m.Parts[0].Name, framedWithSalt(t, forged, sealCRC32C, salt))
		}, ErrNotAuthentic, "not encrypted"},
		{"forged part, manifest rewritten as unencrypted", key, key, func(t *testing.T, st store.Store, m Manifest) {
			forgePart(t, st, prefix, m, forged, sealCRC32C, true)
			editManifest(t, st, prefix, func(m *Manifest) {
				m.Encryption, m.KeyFingerprint, m.MAC, m.RawDigest = EncryptionNone, "", "", ""
				m.Parts[0].Salt, m.Log.Salt = "", ""
			})
		}, ErrWrongKey, "not encrypted"},
		{"manifest edited: a database name", key, key, func(t *testing.T, st store.Store, m Manifest) {
			editManifest(t, st, prefix, func(m *Manifest) { m.Engine.Databases = []string{"postgres"} })
		}, ErrNotAuthentic, "MAC"},
		{"manifest edited: a size", key, key, func(t *testing.T, st store.Store, m Manifest) {
			editManifest(t, st, prefix, func(m *Manifest) { m.Parts[0].RawBytes--; m.RawBytes-- })
		}, ErrNotAuthentic, "MAC"},
		{"manifest edited: the key fingerprint", key, otherKey, func(t *testing.T, st store.Store, m Manifest) {
			editManifest(t, st, prefix, func(m *Manifest) { m.KeyFingerprint = Fingerprint(otherKey) })
		}, ErrNotAuthentic, "MAC"},
		{"manifest swapped from another backup under the same key", key, key, func(t *testing.T, st store.Store, m Manifest) {
			backup(t, st, "job-2", key, testData(1000))
			putBytes(t, st, prefix+ManifestName, readAll(t, st, "pg/job-2/"+ManifestName))
		}, ErrNotAuthentic, "pg/job-2/"},
		{"manifest swapped and renamed to this backup", key, key, func(t *testing.T, st store.Store, m Manifest) {
			backup(t, st, "job-2", key, testData(1000))
			putBytes(t, st, prefix+ManifestName, readAll(t, st, "pg/job-2/"+ManifestName))
			editManifest(t, st, prefix, func(m *Manifest) { m.JobID = "job-1" })
		}, ErrNotAuthentic, "MAC"},
		{"part copied from another backup under the same key", key, key, func(t *testing.T, st store.Store, m Manifest) {
			backup(t, st, "job-2", key, data)
			putBytes(t, st, prefix+m.Parts[0].Name, readAll(t, st, "pg/job-2/"+m.Parts[0].Name))
		}, ErrNotAuthentic, "part"},
		{"MAC stripped", key, key, func(t *testing.T, st store.Store, m Manifest) {
			editManifest(t, st, prefix, func(m *Manifest) { m.MAC = "" })
		}, ErrBadManifest, "mac"},
		{"MAC of another backup", key, key, func(t *testing.T, st store.Store, m Manifest) {
			other := backup(t, st, "job-2", key, data)
			editManifest(t, st, prefix, func(m *Manifest) { m.MAC = other.MAC })
		}, ErrNotAuthentic, "MAC"},
		{"key given for an unencrypted backup", nil, key, func(t *testing.T, st store.Store, m Manifest) {}, ErrWrongKey, "not encrypted"},
		{"no key for an encrypted backup", key, nil, func(t *testing.T, st store.Store, m Manifest) {}, ErrWrongKey, "encrypted"},
		{"another key", key, otherKey, func(t *testing.T, st store.Store, m Manifest) {}, ErrWrongKey, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := memstore.New()
			m := backup(t, st, "job-1", c.key, data)
			c.damage(t, st, m)
			mention := c.mention
			if mention == "part" {
				mention = m.Parts[0].Name
			}
			assertRefused(t, st, prefix, c.restore, c.want, mention)
		})
	}
}

// The log is a part too: a forged or swapped log of an encrypted backup
// is refused by a verify and by a restore that checks the backup first.
func TestKeyedVerifyRefusesAForgedLog(t *testing.T) {
	key := bytes.Repeat([]byte{0x5b}, KeySize)
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, st store.Store)
	}{
		{"unencrypted log", func(t *testing.T, st store.Store) {
			putBytes(t, st, "pg/job-1/"+LogName, framed(t, []byte("all went well\n"), sealCRC32C))
		}},
		{"log of another backup", func(t *testing.T, st store.Store) {
			putBytes(t, st, "pg/job-1/"+LogName, readAll(t, st, "pg/job-2/"+LogName))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			for _, job := range []string{"job-1", "job-2"} {
				if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: job, Key: key}, fakeDump([]byte("data"))); err != nil {
					t.Fatal(err)
				}
			}
			c.damage(t, st)
			_, err := Verify(ctx, st, "pg/job-1/", key)
			if !errors.Is(err, ErrNotAuthentic) || !strings.Contains(err.Error(), LogName) {
				t.Fatalf("verify err = %v, want ErrNotAuthentic naming %s", err, LogName)
			}
			var cn counter
			_, _, err = Restore(ctx, st, "pg/job-1/", RestoreOptions{Key: key, VerifyFirst: true, SpoolDir: t.TempDir()}, cn.consume)
			if !errors.Is(err, ErrNotAuthentic) || cn.called || cn.n != 0 {
				t.Fatalf("restore err = %v, consumer called %v with %d bytes; want ErrNotAuthentic and no call", err, cn.called, cn.n)
			}
		})
	}
}

// An encrypted backup's manifest holds no bare SHA-256 of its plaintext
// (the data's or the log's): who reads the bucket cannot tell two equal
// plaintexts nor confirm a guessed one. An unencrypted one still does.
func TestEncryptedManifestHoldsNoPlainDigest(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	key := bytes.Repeat([]byte{0x11}, KeySize)
	data := []byte("a guessable plaintext\n")
	logText := []byte("pg_dump: dumping with password ***\n")
	var macs []string
	for _, c := range []struct {
		job string
		key []byte
	}{{"plain", nil}, {"enc-1", key}, {"enc-2", key}} {
		m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: c.job, Key: c.key, Secrets: []string{"CANARY-PW"}}, fakeDump(data))
		if err != nil {
			t.Fatal(err)
		}
		b := readAll(t, st, "pg/"+c.job+"/"+ManifestName)
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		holdsData, holdsLog := bytes.Contains(b, []byte(sha256Hex(data))), bytes.Contains(b, []byte(sha256Hex(logText)))
		holds := holdsData || holdsLog
		if c.key == nil {
			// The unencrypted format is unchanged: bare SHA-256, no new field.
			if !holdsData || !holdsLog || fields["raw-digest"] != nil || fields["mac"] != nil || strings.Contains(string(b), `"salt"`) {
				t.Fatalf("unencrypted manifest changed:\n%s", b)
			}
			continue
		}
		if holds {
			t.Fatalf("encrypted manifest %s holds the bare SHA-256 of its plaintext:\n%s", c.job, b)
		}
		if fields["raw-digest"] != RawDigestHMAC {
			t.Fatalf("raw-digest = %v, want %s", fields["raw-digest"], RawDigestHMAC)
		}
		macs = append(macs, m.Parts[0].RawSHA256)
		if _, err := Verify(ctx, st, "pg/"+c.job+"/", key); err != nil {
			t.Fatalf("verify %s: %v", c.job, err)
		}
	}
	if macs[0] == macs[1] {
		t.Fatalf("two backups of the same plaintext under one key have the same raw digest %s", macs[0])
	}
}

// A keyed raw digest is checked: the right HMAC is needed, a bare SHA-256
// of the right content is refused.
func TestEncryptedRawDigestIsChecked(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	key := bytes.Repeat([]byte{0x12}, KeySize)
	data := testData(10 << 10)
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Key: key}, fakeDump(data))
	if err != nil {
		t.Fatal(err)
	}
	// Reseal the manifest with the key (as a bug of dbbackup itself could
	// write it): the content check is what must catch the digest.
	m.Parts[0].RawSHA256 = sha256Hex(data)
	m.RawSHA256 = m.Parts[0].RawSHA256
	if err := m.seal(key); err != nil {
		t.Fatal(err)
	}
	b, _ := m.Marshal()
	putBytes(t, st, "pg/job-1/"+ManifestName, b)
	if _, err := Verify(ctx, st, "pg/job-1/", key); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "content checksum") {
		t.Fatalf("verify err = %v, want a content checksum mismatch", err)
	}
}
