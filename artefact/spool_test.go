package artefact

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// getCounter counts the Get calls of each key.
type getCounter struct {
	store.Store
	mu   sync.Mutex
	gets map[string]int
}

func (c *getCounter) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.mu.Lock()
	c.gets[key]++
	c.mu.Unlock()
	return c.Store.Get(ctx, key)
}

// spoolFiles returns the files this process holds open in dir (by
// /proc/self/fd), named or unlinked, with their modes.
func spoolFiles(t *testing.T, dir string) map[string]os.FileMode {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	got := map[string]os.FileMode{}
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		target, err := os.Readlink(p)
		if err != nil || !strings.HasPrefix(target, dir+"/") {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			got[target] = fi.Mode().Perm()
		}
	}
	return got
}

func TestVerifyFirstDownloadsOnceThroughAPrivateSpool(t *testing.T) {
	key := bytes.Repeat([]byte{5}, KeySize)
	for _, c := range []struct {
		name     string
		key      []byte
		spoolDir func(t *testing.T) string
		wantGets int // downloads of the data part
	}{
		{"spooled", nil, func(t *testing.T) string { return t.TempDir() }, 1},
		{"spooled encrypted", key, func(t *testing.T) string { return t.TempDir() }, 1},
		{"no spool dir: downloads twice", nil, func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := &getCounter{Store: memstore.New(), gets: map[string]int{}}
			data := testData(2<<20 + 5)
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, Key: c.key, FrameSize: 64 << 10}, fakeDump(data))
			if err != nil {
				t.Fatal(err)
			}
			dir := c.spoolDir(t)
			var got bytes.Buffer
			var open map[string]os.FileMode
			_, _, err = Restore(ctx, st, "my/job-1/", RestoreOptions{Key: c.key, VerifyFirst: true, SpoolDir: dir}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
				open = spoolFiles(t, dir)
				_, err := io.Copy(&got, r)
				return engine.Result{}, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("restored %d bytes differ from the %d backed up", got.Len(), len(data))
			}
			if n := st.gets["my/job-1/"+m.Parts[0].Name]; n != c.wantGets {
				t.Fatalf("the data part was downloaded %d times, want %d", n, c.wantGets)
			}
			wantOpen := 0
			if c.wantGets == 1 {
				wantOpen = 1
			}
			if len(open) != wantOpen {
				t.Fatalf("open spool files during the restore: %v, want %d", open, wantOpen)
			}
			for name, mode := range open {
				if mode != 0o600 {
					t.Fatalf("spool %s has mode %v, want 0600", name, mode)
				}
				if !strings.HasSuffix(name, " (deleted)") {
					t.Fatalf("spool %s still has a name while it is read", name)
				}
			}
			assertNoSpool(t, dir)
		})
	}
}

func TestVerifyFirstRemovesTheSpoolOnFailure(t *testing.T) {
	for _, c := range []struct {
		name    string
		damage  bool
		consume error
		want    error
	}{
		{"damaged backup", true, nil, ErrCorrupt},
		{"consumer fails", false, errors.New("the tool failed"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, FrameSize: 64 << 10}, fakeDump(testData(1<<20)))
			if err != nil {
				t.Fatal(err)
			}
			if c.damage {
				k := "my/job-1/" + m.Parts[0].Name
				b := readAll(t, st, k)
				b[len(b)/2] ^= 1
				putBytes(t, st, k, b)
			}
			dir := t.TempDir()
			_, _, err = Restore(ctx, st, "my/job-1/", RestoreOptions{VerifyFirst: true, SpoolDir: dir}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
				if c.consume != nil {
					return engine.Result{}, c.consume
				}
				_, err := io.Copy(io.Discard, r)
				return engine.Result{}, err
			})
			want := c.want
			if want == nil {
				want = c.consume
			}
			if !errors.Is(err, want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
			assertNoSpool(t, dir)
		})
	}
}

// assertNoSpool fails if dir holds a file or this process still holds one
// of its files open.
func assertNoSpool(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		t.Fatalf("the spool folder still holds %s", entries[0].Name())
	}
	if open := spoolFiles(t, dir); len(open) > 0 {
		t.Fatalf("spool files still open after the restore: %v", open)
	}
}

// openSpool returns the /proc/self/fd path of the one spool file this
// process holds open in dir.
func openSpool(t *testing.T, dir string) string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	var found []string
	for _, fd := range fds {
		p := filepath.Join("/proc/self/fd", fd.Name())
		if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, dir+"/") {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("open spool files in %s: %v, want one", dir, found)
	}
	return found[0]
}

// The spool holds the raw (decompressed, verified) bytes when the backup
// is not encrypted and the disk has room, and the stored bytes otherwise:
// an encrypted backup never lands in plaintext on the local disk.
func TestVerifyFirstSpoolHoldsRawBytesOnlyWhenItMay(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	for _, c := range []struct {
		name    string
		key     []byte
		reserve int64
		raw     bool
	}{
		{"plain", nil, spoolReserve, true},
		{"encrypted", key, spoolReserve, false},
		{"no room for the raw bytes", nil, 1 << 62, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := spoolReserve
			spoolReserve = c.reserve
			defer func() { spoolReserve = old }()
			ctx := context.Background()
			st := memstore.New()
			data := testData(3<<20 + 11)
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, Key: c.key, FrameSize: 64 << 10}, fakeDump(data))
			if err != nil {
				t.Fatal(err)
			}
			if m.Parts[0].StoredBytes == m.Parts[0].RawBytes {
				t.Fatal("stored and raw sizes are equal: the test cannot tell the spools apart")
			}
			dir := t.TempDir()
			var got bytes.Buffer
			var size int64
			_, _, err = Restore(ctx, st, "my/job-1/", RestoreOptions{Key: c.key, VerifyFirst: true, SpoolDir: dir}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
				fi, err := os.Stat(openSpool(t, dir))
				if err != nil {
					return engine.Result{}, err
				}
				size = fi.Size()
				_, err = io.Copy(&got, r)
				return engine.Result{}, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("restored %d bytes differ from the %d backed up", got.Len(), len(data))
			}
			want := m.Parts[0].StoredBytes
			if c.raw {
				want = m.Parts[0].RawBytes
			}
			if size != want {
				t.Fatalf("spool holds %d bytes, want %d (raw %d, stored %d)", size, want, m.Parts[0].RawBytes, m.Parts[0].StoredBytes)
			}
			assertNoSpool(t, dir)
		})
	}
}

// A raw spool that changes after the backup was verified (a flipped byte,
// a cut) is refused before the changed block reaches the consumer.
func TestRawSpoolChangedAfterVerifyIsRefused(t *testing.T) {
	const size = 3<<20 + 11
	for _, c := range []struct {
		name   string
		most   int // the bytes the consumer may get: the blocks before the damage
		damage func(f *os.File) error
	}{
		{"flipped byte", 2 << 20, func(f *os.File) error {
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, 2<<20+100); err != nil {
				return err
			}
			b[0] ^= 0x20
			_, err := f.WriteAt(b, 2<<20+100)
			return err
		}},
		{"truncated", 2 << 20, func(f *os.File) error { return f.Truncate(2<<20 + 100) }},
		{"grown", size, func(f *os.File) error {
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			_, err = f.WriteAt([]byte("DROP DATABASE x;"), fi.Size())
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			data := testData(size)
			if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, FrameSize: 64 << 10}, fakeDump(data)); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var got bytes.Buffer
			_, _, err := Restore(ctx, st, "my/job-1/", RestoreOptions{VerifyFirst: true, SpoolDir: dir}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
				f, err := os.OpenFile(openSpool(t, dir), os.O_RDWR, 0)
				if err != nil {
					return engine.Result{}, err
				}
				defer f.Close()
				if err := c.damage(f); err != nil {
					return engine.Result{}, err
				}
				_, err = io.Copy(&got, r)
				return engine.Result{}, err
			})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "spool") {
				t.Fatalf("err = %v, want ErrCorrupt naming the spool", err)
			}
			if got.Len() > c.most || !bytes.Equal(got.Bytes(), data[:got.Len()]) {
				t.Fatalf("the consumer got %d bytes, some past the damaged block or changed", got.Len())
			}
			assertNoSpool(t, dir)
		})
	}
}

// The raw spool's CRC blocks hold for any write and read sizes, and any
// flipped byte is caught.
func TestRawSpoolBlocks(t *testing.T) {
	for _, size := range []int{0, 1, rawBlock - 1, rawBlock, rawBlock + 1, 3*rawBlock + 7} {
		data := testData(size)
		for _, flip := range []int{-1, 0, size / 2, size - 1} {
			if flip >= size {
				continue
			}
			dir := t.TempDir()
			sp := newSpool(dir)
			w := &rawSpoolWriter{sp: sp}
			for rest, step := data, 1; len(rest) > 0; step = step*7 + 3 {
				k := min(len(rest), step%(rawBlock+5)+1)
				if _, err := w.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
			f := sp.rewind()
			if f == nil {
				t.Fatal("spool failed")
			}
			if flip >= 0 {
				b := []byte{data[flip] ^ 1}
				if _, err := f.f.WriteAt(b, int64(flip)); err != nil {
					t.Fatal(err)
				}
			}
			r := w.reader(f, Part{Name: "data"})
			var got bytes.Buffer
			buf := make([]byte, 4099)
			var err error
			for err == nil {
				var n int
				n, err = r.Read(buf)
				got.Write(buf[:n])
			}
			r.Close()
			if flip < 0 && (err != io.EOF || !bytes.Equal(got.Bytes(), data)) {
				t.Fatalf("size %d: read %d bytes, err %v; want the data and io.EOF", size, got.Len(), err)
			}
			if flip >= 0 && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("size %d, flipped byte %d: err %v, want ErrCorrupt", size, flip, err)
			}
			assertNoSpool(t, dir)
		}
	}
}
