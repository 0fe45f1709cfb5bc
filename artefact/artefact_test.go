package artefact

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// fakeDump produces data as an engine would, and logs a line holding a secret.
func fakeDump(data []byte) Producer {
	return func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		fmt.Fprintln(log, "pg_dump: dumping with password CANARY-PW")
		for off := 0; off < len(data); off += 7919 { // odd writes, like a tool's
			end := min(off+7919, len(data))
			if _, err := w.Write(data[off:end]); err != nil {
				return engine.Result{}, err
			}
		}
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Format: "pg_dump-custom", Databases: []string{"db"}, Bytes: int64(len(data))}, nil
	}
}

// collect is a consumer that keeps what it reads.
func collect(buf *bytes.Buffer) Consumer {
	return func(ctx context.Context, r io.Reader) (engine.Result, error) {
		_, err := io.Copy(buf, r)
		return engine.Result{}, err
	}
}

func testData(n int) []byte {
	b := make([]byte, n)
	rand.Read(b[:n/2]) // half random, half compressible
	for i := n / 2; i < n; i++ {
		b[i] = byte('a' + i%7)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	for _, c := range []struct {
		name        string
		compression bool
		key         []byte
		size        int
	}{
		{"plain", false, nil, 3<<20 + 17},
		{"zstd", true, nil, 3<<20 + 17},
		{"zstd encrypted", true, key, 3<<20 + 17},
		{"encrypted", false, key, 100},
		{"empty", true, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			data := testData(c.size)
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Compression: c.compression, Key: c.key, FrameSize: 256 << 10, Secrets: []string{"CANARY-PW"}}, fakeDump(data))
			if err != nil {
				t.Fatal(err)
			}
			if m.RawBytes != int64(len(data)) {
				t.Fatalf("raw bytes %d, want %d", m.RawBytes, len(data))
			}
			var got bytes.Buffer
			if _, _, err := Restore(ctx, st, "pg/job-1/", RestoreOptions{Key: c.key}, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("restored %d bytes differ from the %d backed up", got.Len(), len(data))
			}
			if _, err := Verify(ctx, st, "pg/job-1/", c.key); err != nil {
				t.Fatalf("verify: %v", err)
			}
			for obj, err := range st.List(ctx, "", store.ListOptions{Recursive: true}) {
				if err != nil {
					t.Fatal(err)
				}
				b := readAll(t, st, obj.Key)
				if bytes.Contains(b, []byte("CANARY-PW")) || (c.key != nil && bytes.Contains(b, c.key)) {
					t.Fatalf("object %s holds a secret", obj.Key)
				}
			}
		})
	}
}

func readAll(t *testing.T, st store.Store, key string) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putBytes(t *testing.T, st store.Store, key string, b []byte) {
	t.Helper()
	if _, err := st.Put(context.Background(), key, bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestDamageIsRefusedBeforeTheConsumerSeesIt is the artefact half of the
// promise that a bad artefact leaves the database as it was: the consumer
// gets an error, never io.EOF, and never a byte of a damaged frame.
func TestDamageIsRefusedBeforeTheConsumerSeesIt(t *testing.T) {
	key := bytes.Repeat([]byte{9}, KeySize)
	otherKey := bytes.Repeat([]byte{8}, KeySize)
	const frame = 64 << 10
	data := testData(1 << 20)
	cases := []struct {
		name    string
		key     []byte
		damage  func(t *testing.T, st store.Store, m Manifest)
		restore []byte
		want    error
		maxSeen int // bytes the consumer may see before the error
	}{
		{"flipped byte in frame 3", nil, func(t *testing.T, st store.Store, m Manifest) {
			k := "pg/job-1/" + m.Parts[0].Name
			b := readAll(t, st, k)
			b[headerSize+3*(frame+5+crc32.Size)+100] ^= 1
			putBytes(t, st, k, b)
		}, nil, ErrCorrupt, 3 * frame},
		{"truncated data", nil, func(t *testing.T, st store.Store, m Manifest) {
			k := "pg/job-1/" + m.Parts[0].Name
			b := readAll(t, st, k)
			putBytes(t, st, k, b[:len(b)-(frame/2)])
		}, nil, ErrCorrupt, len(data)},
		{"truncated at a frame boundary", nil, func(t *testing.T, st store.Store, m Manifest) {
			k := "pg/job-1/" + m.Parts[0].Name
			b := readAll(t, st, k)
			putBytes(t, st, k, b[:headerSize+4*(frame+5+crc32.Size)])
		}, nil, ErrCorrupt, 4 * frame},
		{"missing manifest", nil, func(t *testing.T, st store.Store, m Manifest) {
			st.Delete(context.Background(), "pg/job-1/"+ManifestName)
		}, nil, ErrIncomplete, 0},
		{"missing data", nil, func(t *testing.T, st store.Store, m Manifest) {
			st.Delete(context.Background(), "pg/job-1/"+m.Parts[0].Name)
		}, nil, ErrCorrupt, 0},
		{"manifest edited", nil, func(t *testing.T, st store.Store, m Manifest) {
			putBytes(t, st, "pg/job-1/"+ManifestName, []byte(`{"format-version":1}`))
		}, nil, ErrBadManifest, 0},
		{"wrong key", key, func(t *testing.T, st store.Store, m Manifest) {}, otherKey, ErrWrongKey, 0},
		{"no key for an encrypted backup", key, func(t *testing.T, st store.Store, m Manifest) {}, []byte(nil), ErrWrongKey, 0},
		// The fingerprint proves nothing; the manifest's MAC, under the
		// other key, does not match: refused before any part is read.
		{"wrong key, fingerprint forged", key, func(t *testing.T, st store.Store, m Manifest) {
			m.KeyFingerprint = Fingerprint(otherKey)
			b, _ := m.Marshal()
			putBytes(t, st, "pg/job-1/"+ManifestName, b)
		}, otherKey, ErrNotAuthentic, 0},
		{"frame from another backup", nil, func(t *testing.T, st store.Store, m Manifest) {
			ctx := context.Background()
			if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-2", FrameSize: frame}, fakeDump(data)); err != nil {
				t.Fatal(err)
			}
			other := readAll(t, st, "pg/job-2/"+m.Parts[0].Name)
			k := "pg/job-1/" + m.Parts[0].Name
			b := readAll(t, st, k)
			off := headerSize + 2*(frame+5+crc32.Size)
			copy(b[off:off+frame+5+crc32.Size], other[off:])
			putBytes(t, st, k, b)
		}, nil, ErrCorrupt, 2 * frame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Key: c.key, FrameSize: frame}, fakeDump(data))
			if err != nil {
				t.Fatal(err)
			}
			c.damage(t, st, m)
			for _, verifyFirst := range []bool{false, true} {
				var seen bytes.Buffer
				called := false
				_, _, err = Restore(ctx, st, "pg/job-1/", RestoreOptions{Key: c.restore, VerifyFirst: verifyFirst}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
					called = true
					_, err := io.Copy(&seen, r)
					return engine.Result{}, err
				})
				if !errors.Is(err, c.want) {
					t.Fatalf("verifyFirst=%v: err = %v, want %v", verifyFirst, err, c.want)
				}
				limit := c.maxSeen
				if verifyFirst {
					limit = 0
				}
				if seen.Len() > limit || (limit == 0 && called) {
					t.Fatalf("verifyFirst=%v: the consumer saw %d bytes (called=%v), want at most %d", verifyFirst, seen.Len(), called, limit)
				}
				if !bytes.Equal(seen.Bytes(), data[:seen.Len()]) {
					t.Fatalf("verifyFirst=%v: the consumer saw damaged bytes", verifyFirst)
				}
			}
			if _, err := Verify(ctx, st, "pg/job-1/", c.restore); !errors.Is(err, c.want) {
				t.Fatalf("verify err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestFailedBackupLeavesNoManifestButKeepsTheLog(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	boom := errors.New("pg_dump: error: connection to server lost")
	_, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		w.Write(testData(3 << 20))
		fmt.Fprintln(log, "pg_dump: dumping table t")
		return engine.Result{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the producer's", err)
	}
	var keys []string
	for obj, err := range st.List(ctx, "pg/job-1/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	if strings.Join(keys, ",") != "pg/job-1/"+LogName+",pg/job-1/"+StartedName {
		t.Fatalf("left %v, want only the log and the start marker", keys)
	}
	if _, _, err := Restore(ctx, st, "pg/job-1/", RestoreOptions{}, collect(new(bytes.Buffer))); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("restore err = %v, want ErrIncomplete", err)
	}
}

func TestBackupRefusesAnExistingJob(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	opts := BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Now: func() time.Time { return time.Unix(1e9, 0) }}
	if _, err := Backup(ctx, st, opts, fakeDump([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctx, st, opts, fakeDump([]byte("y"))); !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
}

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, KeySize)
	for _, in := range []string{string(raw), strings.Repeat("ab", 32) + "\n", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"} {
		k, err := ParseKey([]byte(in))
		if err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", in, k, err)
		}
	}
	_, err := ParseKey([]byte("CANARY-short-key"))
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("err = %v, want an error that does not repeat the key", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	ctx := context.Background()
	st := memstore.New()
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1", Compression: true}, fakeDump([]byte("data")))
	if err != nil {
		f.Fatal(err)
	}
	b, _ := m.Marshal()
	f.Add(b)
	f.Add([]byte(`{"format-version":1,"parts":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(out); err != nil {
			t.Fatalf("a valid manifest does not survive a round trip: %v", err)
		}
	})
}

func FuzzFrameReader(f *testing.F) {
	for _, sealing := range []byte{sealCRC32C, sealSHA256} {
		var buf bytes.Buffer
		fw, _ := newFrameWriterSealed(&buf, nil, 16, sealing)
		fw.Write([]byte("hello, frames of sixteen bytes"))
		fw.Close()
		f.Add(buf.Bytes())
	}
	var enc bytes.Buffer
	fw, _ := newFrameWriter(&enc, bytes.Repeat([]byte{0x42}, KeySize), 16)
	fw.Write([]byte("hello, frames of sixteen bytes"))
	fw.Close()
	f.Add(enc.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := newFrameReader(bytes.NewReader(data), nil, nil)
		if err != nil {
			return
		}
		if data[5] == sealAESGCM {
			t.Fatalf("an encrypted part is read without a key")
		}
		io.Copy(io.Discard, io.LimitReader(fr, 64<<20))
	})
}

// Unencrypted parts are sealed with CRC-32C, encrypted ones with AES-GCM;
// parts sealed with SHA-256 by earlier versions still read, and damage to
// them is still caught.
func TestFrameSealings(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	data := testData(300<<10 + 7)
	key := bytes.Repeat([]byte{3}, KeySize)
	for _, c := range []struct {
		job  string
		key  []byte
		want byte
	}{{"plain", nil, sealCRC32C}, {"encrypted", key, sealAESGCM}} {
		m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "s", JobID: c.job, Key: c.key, FrameSize: 64 << 10}, fakeDump(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, st, "s/"+c.job+"/"+m.Parts[0].Name); b[5] != c.want {
			t.Errorf("%s part sealed with %d, want %d", c.job, b[5], c.want)
		}
	}
	for _, sealing := range []byte{sealSHA256, sealCRC32C} {
		var buf bytes.Buffer
		fw, err := newFrameWriterSealed(&buf, nil, 64<<10, sealing)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
		fw.Close()
		part := buf.Bytes()
		fr, err := newFrameReader(bytes.NewReader(part), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(fr); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("sealing %d: read %d bytes, err %v", sealing, len(got), err)
		}
		for _, off := range []int{headerSize + 5, headerSize + 70000, len(part) - 1} {
			bad := bytes.Clone(part)
			bad[off] ^= 0x10
			fr, err := newFrameReader(bytes.NewReader(bad), nil, nil)
			if err == nil {
				_, err = io.ReadAll(fr)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("sealing %d, byte %d flipped: err %v, want ErrCorrupt", sealing, off, err)
			}
		}
	}
}

// BenchmarkFrameWriter seals 64 MiB of frames with each unkeyed sealing:
// the CPU a backup spends on per-frame checks (a restore spends the same
// opening them).
func BenchmarkFrameWriter(b *testing.B) {
	data := testData(64 << 20)
	for _, c := range []struct {
		name    string
		sealing byte
	}{{"sha256", sealSHA256}, {"crc32c", sealCRC32C}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				fw, err := newFrameWriterSealed(io.Discard, nil, DefaultFrameSize, c.sealing)
				if err != nil {
					b.Fatal(err)
				}
				fw.Write(data)
				fw.Close()
			}
		})
	}
}
