// Package storetest is the conformance suite every store.Store backend
// runs: the in-memory one in unit tests, the s3 one against real servers.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/store"
)

// Options tunes the suite for a backend.
type Options struct {
	// LargeSize is the size of the object that must span several parts of
	// a multipart upload; 0 means 1 MiB.
	LargeSize int
}

// Run runs the suite. newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	if opts.LargeSize == 0 {
		opts.LargeSize = 1 << 20
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PutGet", testPutGet},
		{"PutLarge", func(t *testing.T, s store.Store) { testPutLarge(t, s, opts.LargeSize) }},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"List", testList},
		{"ListStop", testListStop},
		{"Delete", testDelete},
		{"DeletePrefix", testDeletePrefix},
		{"BadKeys", testBadKeys},
		{"Cancelled", testCancelled},
		{"SourceFails", testSourceFails},
		{"Concurrent", testConcurrent},
		{"Create", testCreate},
		{"CreateExisting", testCreateExisting},
		{"CreateRace", testCreateRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func put(t *testing.T, s store.Store, key string, data []byte) store.Object {
	t.Helper()
	// A reader without Len or Seek, as a pipeline's output is.
	obj, err := s.Put(context.Background(), key, io.MultiReader(bytes.NewReader(data)), store.PutOptions{})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return obj
}

func get(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func testPutGet(t *testing.T, s store.Store) {
	tests := []struct{ key, data string }{
		{"a.txt", "hello"},
		{"empty", ""},
		{"dir/sub/obj with spaces+plus.bin", "x\x00y"},
		{"ünïcode/日本.txt", "u"},
	}
	for _, tt := range tests {
		obj := put(t, s, tt.key, []byte(tt.data))
		if obj.Key != tt.key || obj.Size != int64(len(tt.data)) {
			t.Errorf("Put(%q) = %+v, want key %q size %d", tt.key, obj, tt.key, len(tt.data))
		}
		if got := string(get(t, s, tt.key)); got != tt.data {
			t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.data)
		}
		st, err := s.Stat(context.Background(), tt.key)
		if err != nil || st.Key != tt.key || st.Size != int64(len(tt.data)) || st.IsPrefix {
			t.Errorf("Stat(%q) = %+v, %v; want key %q size %d", tt.key, st, err, tt.key, len(tt.data))
		}
	}
}

func testPutLarge(t *testing.T, s store.Store, size int) {
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	obj := put(t, s, "large/obj", data)
	if obj.Size != int64(size) {
		t.Errorf("Put size = %d, want %d", obj.Size, size)
	}
	if got := get(t, s, "large/obj"); !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes differing from the %d put", len(got), size)
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	put(t, s, "k", []byte("one"))
	put(t, s, "k", []byte("two!"))
	if got, want := string(get(t, s, "k")), "two!"; got != want {
		t.Errorf("Get after overwrite = %q, want %q", got, want)
	}
}

func testMissing(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) || !store.IsPermanent(err) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "nope/deeper"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat(missing) error = %v, want ErrNotFound", err)
	}
}

func list(t *testing.T, s store.Store, prefix string, recursive bool) []string {
	t.Helper()
	var keys []string
	for obj, err := range s.List(context.Background(), prefix, store.ListOptions{Recursive: recursive}) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		k := obj.Key
		if obj.IsPrefix {
			k += "(dir)"
			if obj.Key[len(obj.Key)-1] != '/' {
				t.Errorf("prefix %q does not end with /", obj.Key)
			}
		}
		keys = append(keys, k)
	}
	return keys
}

func testList(t *testing.T, s store.Store) {
	for _, k := range []string{"b/1", "b/2/x", "b/2/y", "b/3", "bb/1", "c", "a"} {
		put(t, s, k, []byte(k))
	}
	tests := []struct {
		prefix    string
		recursive bool
		want      []string
	}{
		{"", false, []string{"a", "b/(dir)", "bb/(dir)", "c"}},
		{"b/", false, []string{"b/1", "b/2/(dir)", "b/3"}},
		{"b/", true, []string{"b/1", "b/2/x", "b/2/y", "b/3"}},
		{"b", false, []string{"b/(dir)", "bb/(dir)"}},
		{"", true, []string{"a", "b/1", "b/2/x", "b/2/y", "b/3", "bb/1", "c"}},
		{"zz/", false, nil},
	}
	for _, tt := range tests {
		got := list(t, s, tt.prefix, tt.recursive)
		if !slices.Equal(got, tt.want) {
			t.Errorf("List(%q, recursive=%v) = %q, want %q", tt.prefix, tt.recursive, got, tt.want)
		}
	}
	for obj, err := range s.List(context.Background(), "b/1", store.ListOptions{}) {
		if err != nil || obj.Size != 3 || obj.ModTime.IsZero() {
			t.Errorf("List(b/1) yielded %+v, %v; want size 3 and a modification time", obj, err)
		}
	}
}

func testListStop(t *testing.T, s store.Store) {
	for i := range 5 {
		put(t, s, fmt.Sprintf("s/%d", i), nil)
	}
	n := 0
	for _, err := range s.List(context.Background(), "s/", store.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("iterations after break at 2 = %d", n)
	}
}

func testDelete(t *testing.T, s store.Store) {
	put(t, s, "d/1", []byte("x"))
	ctx := context.Background()
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "d/1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
}

func testDeletePrefix(t *testing.T, s store.Store) {
	for i := range 7 {
		put(t, s, fmt.Sprintf("job/%d/part", i), []byte("p"))
	}
	put(t, s, "jobkeep", []byte("k"))
	put(t, s, "other/1", []byte("k"))
	if err := store.DeletePrefix(context.Background(), s, "job/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	if got, want := list(t, s, "", true), []string{"jobkeep", "other/1"}; !slices.Equal(got, want) {
		t.Errorf("after DeletePrefix(job/) = %q, want %q", got, want)
	}
	if err := store.DeletePrefix(context.Background(), s, ""); err == nil {
		t.Error("DeletePrefix(\"\") = nil, want a refusal")
	}
}

func testBadKeys(t *testing.T, s store.Store) {
	for _, k := range []string{"", "/abs", "a//b", "a/../b", "./a", "dir/"} {
		if _, err := s.Put(context.Background(), k, bytes.NewReader(nil), store.PutOptions{}); err == nil || !store.IsPermanent(err) {
			t.Errorf("Put(%q) error = %v, want a permanent refusal", k, err)
		}
	}
}

func testCancelled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "c", bytes.NewReader([]byte("x")), store.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, "c"); err == nil {
		t.Error("Get(cancelled) = nil error")
	}
	for _, err := range s.List(ctx, "", store.ListOptions{}) {
		if err == nil {
			t.Error("List(cancelled) yielded no error")
		}
		break
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			key := fmt.Sprintf("conc/%d", i)
			data := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if _, err := s.Put(context.Background(), key, bytes.NewReader(data), store.PutOptions{}); err != nil {
				t.Errorf("Put(%q): %v", key, err)
			}
		})
	}
	wg.Wait()
	if got := len(list(t, s, "conc/", false)); got != 8 {
		t.Errorf("List(conc/) found %d objects, want 8", got)
	}
}

func testSourceFails(t *testing.T, s store.Store) {
	errSource := errors.New("source broke")
	r := io.MultiReader(bytes.NewReader([]byte("partial")), errReader{errSource})
	_, err := s.Put(context.Background(), "broken", r, store.PutOptions{})
	if !errors.Is(err, errSource) || !store.IsPermanent(err) {
		t.Errorf("Put(failing source) error = %v, want a permanent error wrapping %v", err, errSource)
	}
	if _, err := s.Stat(context.Background(), "broken"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat after a failed Put: %v, want ErrNotFound", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// Rewrite replaces the object at key with fn of its bytes: how tests
// damage a stored backup.
func Rewrite(t testing.TB, st store.Store, key string, fn func([]byte) []byte) {
	t.Helper()
	ctx := context.Background()
	rc, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, key, bytes.NewReader(fn(b)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}
