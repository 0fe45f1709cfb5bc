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
