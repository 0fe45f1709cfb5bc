package artefact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// logContents are files of the sizes that matter: empty, one byte, less
// than a frame, several frames of compressible and incompressible bytes.
func logContents() map[string][]byte {
	return map[string][]byte{
		"empty":  {},
		"byte":   {7},
		"small":  []byte(strings.Repeat("INSERT INTO t VALUES (1);\n", 100)),
		"frames": append(testData(2<<20+17), bytes.Repeat([]byte("wal "), 300<<10)...),
	}
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestLogFilesRoundTrip(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{0x42}, KeySize)
	for _, k := range [][]byte{nil, key} {
		for label, data := range logContents() {
			st := memstore.New()
			opts := LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: "000000010000000000000003", Key: k}
			put, err := PutLog(ctx, st, opts, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if put.Key != "pg/_logs/wal/000000010000000000000003" || put.Size != int64(len(data)) || put.Digest != sha(data) || put.Encrypted != (k != nil) || put.Stored == 0 {
				t.Fatalf("%s: put returned %+v", label, put)
			}
			var got bytes.Buffer
			f, err := GetLog(ctx, st, "pg", LogStreamWAL, opts.Name, false, k, &got)
			if err != nil || !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("%s: get: %v (%d bytes, want %d)", label, err, got.Len(), len(data))
			}
			if f.Size != put.Size || f.Digest != put.Digest || !f.Created.Equal(put.Created) || f.Stored != put.Stored {
				t.Fatalf("%s: get returned %+v, put %+v", label, f, put)
			}
			if k != nil && bytes.Contains(mustGet(t, st, put.Key), data[:min(len(data), 64)]) && len(data) >= 16 {
				t.Fatalf("%s: the encrypted object holds the plaintext", label)
			}
		}
	}
}

func mustGet(t *testing.T, st store.Store, key string) []byte {
	t.Helper()
	r, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putRaw(t *testing.T, st store.Store, key string, b []byte) {
	t.Helper()
	if _, err := st.Put(context.Background(), key, bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestLogFilePartialThenComplete(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	o := LogFileOptions{Scope: "db", Stream: LogStreamBinlog, Name: "mariadb-bin.000007", Partial: true}
	if _, err := PutLog(ctx, st, o, strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	if _, err := PutLog(ctx, st, o, strings.NewReader("first and more")); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := GetLog(ctx, st, "db", LogStreamBinlog, o.Name, true, nil, &got); err != nil || got.String() != "first and more" {
		t.Fatalf("partial: %v %q", err, got.String())
	}
	if _, err := GetLog(ctx, st, "db", LogStreamBinlog, o.Name, false, nil, io.Discard); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the complete file before it was put: %v, want ErrNotFound", err)
	}
	logs, err := ListLogs(ctx, st, "db", LogStreamBinlog)
	if err != nil || len(logs) != 1 || !logs[0].Partial || logs[0].Name != o.Name {
		t.Fatalf("list: %v %+v", err, logs)
	}
	o.Partial = false
	if _, err := PutLog(ctx, st, o, strings.NewReader("first and more and the end")); err != nil {
		t.Fatal(err)
	}
	logs, err = ListLogs(ctx, st, "db", LogStreamBinlog)
	if err != nil || len(logs) != 1 || logs[0].Partial {
		t.Fatalf("after the complete file the partial must be gone: %v %+v", err, logs)
	}
}

// TestLogFileRefusesDamageAndSwaps edits, truncates, extends and swaps
// stored log objects, with and without a key: each must be refused.
func TestLogFileRefusesDamageAndSwaps(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{0x42}, KeySize)
	data := append(testData(1<<20+5), []byte("tail")...)
	for _, k := range [][]byte{nil, key} {
		st := memstore.New()
		put := func(name string, partial bool, b []byte) string {
			f, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: name, Partial: partial, Key: k}, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			return f.Key
		}
		a := put("000000010000000000000001", false, data)
		b := put("000000010000000000000002", false, []byte("other segment"))
		p := put("000000010000000000000003", true, []byte("partial"))
		orig := mustGet(t, st, a)
		check := func(what string, name string, partial bool) {
			t.Helper()
			var got bytes.Buffer
			_, err := GetLog(ctx, st, "pg", LogStreamWAL, name, partial, k, &got)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("key %t, %s: %v, want ErrCorrupt", k != nil, what, err)
			}
		}
		for _, off := range []int{5, headerSize + 2, headerSize + 100, len(orig) / 2, len(orig) - 20, len(orig) - 1} {
			bad := bytes.Clone(orig)
			bad[off] ^= 0x10
			putRaw(t, st, a, bad)
			check("a byte flipped at "+strconv.Itoa(off), "000000010000000000000001", false)
		}
		for _, n := range []int{0, 10, headerSize, len(orig) / 2, len(orig) - 1} {
			putRaw(t, st, a, orig[:n])
			check("truncated to "+strconv.Itoa(n), "000000010000000000000001", false)
		}
		putRaw(t, st, a, append(bytes.Clone(orig), 0))
		check("a byte appended", "000000010000000000000001", false)
		// Swaps: another file's object under this name, a partial passed
		// off as complete, a file of another scope or stream.
		putRaw(t, st, a, mustGet(t, st, b))
		check("another segment's object", "000000010000000000000001", false)
		putRaw(t, st, a, mustGet(t, st, p))
		check("the partial of another segment", "000000010000000000000001", false)
		putRaw(t, st, strings.TrimSuffix(p, ".partial"), mustGet(t, st, p))
		check("a partial passed off as complete", "000000010000000000000003", false)
		other := put("000000010000000000000001", false, data)
		if other != a {
			t.Fatal("keys differ")
		}
		f, err := PutLog(ctx, st, LogFileOptions{Scope: "other", Stream: LogStreamWAL, Name: "000000010000000000000001", Key: k}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		putRaw(t, st, a, mustGet(t, st, f.Key))
		check("the same file of another scope", "000000010000000000000001", false)
	}
}

func TestLogFileKeys(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{0x42}, KeySize)
	other := bytes.Repeat([]byte{0x43}, KeySize)
	st := memstore.New()
	if _, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: "plain", Key: nil}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: "sealed", Key: key}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyLog(ctx, st, "pg", LogStreamWAL, "plain", false, key); !errors.Is(err, ErrWrongKey) || !errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("a key for an unencrypted file: %v", err)
	}
	if _, err := VerifyLog(ctx, st, "pg", LogStreamWAL, "sealed", false, nil); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("no key for an encrypted file: %v", err)
	}
	if _, err := VerifyLog(ctx, st, "pg", LogStreamWAL, "sealed", false, other); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("another key: %v", err)
	}
	if _, err := VerifyLog(ctx, st, "pg", LogStreamWAL, "sealed", false, key[:5]); err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("a short key: %v", err)
	}
	if _, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: "x", Key: key[:5]}, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("a short key: %v", err)
	}
}

func TestLogFileNamesAreValidated(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, c := range []struct{ scope, stream, name, field string }{
		{"", "wal", "a", "scope"},
		{"../x", "wal", "a", "scope"},
		{"_logs", "wal", "a", "scope"},
		{"pg", "", "a", "log stream"},
		{"pg", "WAL", "a", "log stream"},
		{"pg", "wal", "", "log file name"},
		{"pg", "wal", "../a", "log file name"},
		{"pg", "wal", "a/b", "log file name"},
		{"pg", "wal", ".hidden", "log file name"},
		{"pg", "wal", "a.partial", "log file name"},
		{"pg", "wal", strings.Repeat("a", 129), "log file name"},
		{"pg", "wal", "a\x00b", "log file name"},
	} {
		_, err := PutLog(ctx, st, LogFileOptions{Scope: c.scope, Stream: c.stream, Name: c.name}, strings.NewReader("x"))
		if err == nil || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("put %q/%q/%q: %v, want an error naming %s", c.scope, c.stream, c.name, err, c.field)
		}
		if _, err := GetLog(ctx, st, c.scope, c.stream, c.name, false, nil, io.Discard); err == nil || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("get %q/%q/%q: %v, want an error naming %s", c.scope, c.stream, c.name, err, c.field)
		}
	}
	for obj, err := range st.List(ctx, "", store.ListOptions{Recursive: true}) {
		t.Fatalf("bad names stored an object: %+v %v", obj, err)
	}
}

func TestListLogsSkipsStrangersAndOtherStreams(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	for _, n := range []string{"000000010000000000000002", "000000010000000000000001", "00000002.history"} {
		if _, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: n}, strings.NewReader(n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := PutLog(ctx, st, LogFileOptions{Scope: "pg", Stream: LogStreamBinlog, Name: "bin.000001"}, strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	putRaw(t, st, "pg/_logs/wal/.junk", []byte("x"))
	putRaw(t, st, "pg/_logs/wal/sub/000000010000000000000009", []byte("x"))
	logs, err := ListLogs(ctx, st, "pg", LogStreamWAL)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range logs {
		names = append(names, l.Name)
	}
	if strings.Join(names, ",") != "000000010000000000000001,000000010000000000000002,00000002.history" {
		t.Fatalf("listed %v", names)
	}
	if err := DeleteLog(ctx, st, "pg", LogStreamWAL, "000000010000000000000001", false); err != nil {
		t.Fatal(err)
	}
	if logs, _ := ListLogs(ctx, st, "pg", LogStreamWAL); len(logs) != 2 {
		t.Fatalf("after delete: %+v", logs)
	}
	backups, err := List(ctx, st, ListOptions{})
	if err != nil || len(backups) != 0 {
		t.Fatalf("the logs folder was listed as backups: %v %+v", err, backups)
	}
}

// TestLogFileTrailerMustMatchTheContent writes an object whose frames are
// sound but whose trailer lies about the content: refused.
func TestLogFileTrailerMustMatchTheContent(t *testing.T) {
	ctx := context.Background()
	for _, lie := range []func(*logTrailer){
		func(tr *logTrailer) { tr.Size-- },
		func(tr *logTrailer) { tr.SHA256 = sha([]byte("other")) },
		func(tr *logTrailer) { tr.Format = "something-else" },
		func(tr *logTrailer) { tr.Compression = "none" },
	} {
		var obj bytes.Buffer
		fw, err := newFrameWriter(&obj, nil, DefaultFrameSize)
		if err != nil {
			t.Fatal(err)
		}
		comp, err := newCompressor(fw)
		if err != nil {
			t.Fatal(err)
		}
		content := []byte("segment content")
		comp.Write(content)
		comp.Close()
		tr := logTrailer{Format: logTrailerFormat, Version: logTrailerVersion, Scope: "pg", Stream: LogStreamWAL,
			Name: "n", Size: int64(len(content)), SHA256: sha(content), Compression: CompressionZstd}
		lie(&tr)
		b, _ := json.Marshal(tr)
		if err := fw.closeWith(b); err != nil {
			t.Fatal(err)
		}
		st := memstore.New()
		putRaw(t, st, "pg/_logs/wal/n", obj.Bytes())
		if _, err := VerifyLog(ctx, st, "pg", LogStreamWAL, "n", false, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailer %+v: %v, want ErrCorrupt", tr, err)
		}
	}
}

// FuzzGetLog feeds arbitrary objects to the log reader: it must never
// panic, and what it accepts must be what its trailer records.
func FuzzGetLog(f *testing.F) {
	st := memstore.New()
	good, err := PutLog(context.Background(), st, LogFileOptions{Scope: "pg", Stream: LogStreamWAL, Name: "n"}, strings.NewReader("some wal"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustGetF(f, st, good.Key))
	f.Add([]byte("DBBK"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, obj []byte) {
		st := memstore.New()
		putRaw(t, st, "pg/_logs/wal/n", obj)
		var got bytes.Buffer
		lf, err := GetLog(context.Background(), st, "pg", LogStreamWAL, "n", false, nil, &got)
		if err == nil && (lf.Size != int64(got.Len()) || lf.Digest != sha(got.Bytes())) {
			t.Fatalf("accepted %+v for %d bytes", lf, got.Len())
		}
	})
}

func mustGetF(f *testing.F, st store.Store, key string) []byte {
	r, err := st.Get(context.Background(), key)
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
