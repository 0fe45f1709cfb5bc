package artefact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// fuzzKey is the key of the fuzz targets' encrypted seeds.
var fuzzKey = bytes.Repeat([]byte{0x42}, KeySize)

// fuzzPlaintext is what every encrypted seed of FuzzFrameReaderKeyed holds.
var fuzzPlaintext = []byte("hello, frames of sixteen bytes, sealed under the fuzz key")

// FuzzManifestMAC parses manifests and checks them against fuzzKey as Open
// does: no input may authenticate unless it says exactly what the one
// manifest the key signed says.
func FuzzManifestMAC(f *testing.F) {
	// Built, not backed up: every fuzz worker builds the same one.
	signed := fuzzManifest()
	signed.Encryption, signed.KeyFingerprint, signed.RawDigest = EncryptionAES, Fingerprint(fuzzKey), RawDigestHMAC
	signed.Parts[0].Salt = strings.Repeat("5a", 32)
	signed.Log.Container, signed.Log.Salt = ContainerFramed, strings.Repeat("a5", 32)
	if err := signed.seal(fuzzKey); err != nil {
		f.Fatal(err)
	}
	if err := signed.Validate(); err != nil {
		f.Fatal(err)
	}
	want, _ := signed.Marshal()
	f.Add(want)
	stripped := signed
	stripped.MAC = ""
	b, _ := stripped.Marshal()
	f.Add(b)
	b, _ = fuzzManifest().Marshal()
	f.Add(b)
	// The signed manifest with one field edited and its MAC kept: each
	// authenticates only if the MAC misses that field.
	for _, edit := range []func(m *Manifest){
		func(m *Manifest) { m.Engine.Format = "mysql-sql" },
		func(m *Manifest) { m.Engine.Databases = []string{"other"} },
		func(m *Manifest) { m.Engine.TablesOnly = true },
		func(m *Manifest) { m.FinishedAt = m.FinishedAt.Add(time.Nanosecond) },
		func(m *Manifest) { m.Compression = CompressionNone },
		func(m *Manifest) { m.Parts[0].Salt = strings.Repeat("5b", 32) },
		func(m *Manifest) { m.Parts[0].SHA256 = strings.Repeat("2f", 32) },
		func(m *Manifest) { m.Log.RawBytes++; m.Log.StoredBytes++ },
	} {
		e := signed
		e.Parts = append([]Part(nil), signed.Parts...)
		edit(&e)
		b, _ := e.Marshal()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		_ = authenticate("pg/job-1/", m, nil)
		if err := authenticate("pg/job-1/", m, fuzzKey); err != nil {
			if !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrNotAuthentic) {
				t.Fatalf("refused without a sentinel: %v", err)
			}
			return
		}
		got, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("a manifest the key did not sign authenticates:\n%s", got)
		}
		again, err := ParseManifest(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := authenticate("pg/job-1/", again, fuzzKey); err != nil {
			t.Fatalf("an authentic manifest does not survive a round trip: %v", err)
		}
	})
}

// FuzzFrameReaderKeyed reads parts with fuzzKey, with and without the salt
// a manifest would record: a part read to its end must be fuzzPlaintext,
// and a part not sealed with aes-256-gcm must be refused before a byte.
func FuzzFrameReaderKeyed(f *testing.F) {
	var salt []byte
	for range 2 {
		var buf bytes.Buffer
		fw, err := newFrameWriter(&buf, fuzzKey, 16)
		if err != nil {
			f.Fatal(err)
		}
		fw.Write(fuzzPlaintext)
		fw.Close()
		salt = bytes.Clone(fw.salt())
		f.Add(buf.Bytes())
	}
	for _, sealing := range []byte{sealCRC32C, sealSHA256} {
		f.Add(framedWithSalt(f, fuzzPlaintext, sealing, salt))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range [][]byte{nil, salt} {
			fr, err := newFrameReader(bytes.NewReader(data), fuzzKey, s)
			if err != nil {
				if wellFormedHeader(data) && data[5] != sealAESGCM && !errors.Is(err, ErrNotAuthentic) {
					t.Fatalf("a part sealed with %d is refused without ErrNotAuthentic: %v", data[5], err)
				}
				continue
			}
			if data[5] != sealAESGCM {
				t.Fatalf("a part sealed with %d is read with a key", data[5])
			}
			got, err := io.ReadAll(io.LimitReader(fr, 1<<20))
			if err == nil && !bytes.Equal(got, fuzzPlaintext) {
				t.Fatalf("read %q under the key, which never wrote it", got)
			}
			if err != nil && !bytes.HasPrefix(fuzzPlaintext, got) {
				t.Fatalf("handed on %q before failing (%v)", got, err)
			}
		}
	})
}

// wellFormedHeader reports whether data starts with a header newFrameReader
// accepts whatever the key: magic, version, a known sealing, a frame size
// in range.
func wellFormedHeader(data []byte) bool {
	if len(data) < headerSize || string(data[:4]) != magic || data[4] != formatVersion || data[5] > sealCRC32C {
		return false
	}
	size := binary.BigEndian.Uint32(data[6:10])
	return size > 0 && size <= maxFrameSize
}

// fuzzManifest returns the same valid unencrypted manifest every time.
func fuzzManifest() Manifest {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	part := func(name, container string, n int64) Part {
		return Part{Name: name, Container: container, RawBytes: n, RawSHA256: strings.Repeat("1f", 32), StoredBytes: n + 50, SHA256: strings.Repeat("2e", 32)}
	}
	m := Manifest{
		FormatVersion: ManifestVersion, JobID: "job-1", Scope: "pg",
		Engine:    engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Format: "pg_dump-custom", Databases: []string{"db"}, Bytes: 4},
		StartedAt: at, FinishedAt: at.Add(time.Second), Compression: CompressionZstd, Encryption: EncryptionNone,
		Parts: []Part{part("postgresql-logical.zst.dbbk", ContainerFramed, 4)}, Log: part(LogName, ContainerPlain, 30),
		RawSHA256: strings.Repeat("1f", 32), RawBytes: 4, StoredBytes: 54,
	}
	return m
}
