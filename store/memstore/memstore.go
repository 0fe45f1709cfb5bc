// Package memstore is an in-memory store.Store for unit tests of the
// packages that write to a store. It keeps whole objects in memory, so it is
// for tests only.
package memstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/store"
)

var _ store.Store = (*Store)(nil)

// Store is an in-memory object store, safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	objects map[string]object
	now     func() time.Time
}

type object struct {
	data []byte
	info store.Object
}

// New returns an empty store.
func New() *Store {
	return &Store{objects: map[string]object{}, now: time.Now}
}

// Put reads r to its end and stores its bytes under key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, _ store.PutOptions) (store.Object, error) {
	if err := check("put", key); err != nil {
		return store.Object{}, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return store.Object{}, &store.Error{Op: "put", Key: key, Err: fmt.Errorf("read source: %w", err), Permanent: true}
	}
	if err := ctx.Err(); err != nil {
		return store.Object{}, &store.Error{Op: "put", Key: key, Err: err}
	}
	sum := md5.Sum(data)
	info := store.Object{Key: key, Size: int64(len(data)), ModTime: s.now(), ETag: hex.EncodeToString(sum[:])}
	s.mu.Lock()
	s.objects[key] = object{data: data, info: info}
	s.mu.Unlock()
	return info, nil
}

// Get returns a reader over a copy-free view of the object's bytes.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.lookup(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

// Stat describes the object key.
func (s *Store) Stat(ctx context.Context, key string) (store.Object, error) {
	o, err := s.lookup(ctx, "stat", key)
	return o.info, err
}

func (s *Store) lookup(ctx context.Context, op, key string) (object, error) {
	if err := check(op, key); err != nil {
		return object{}, err
	}
	if err := ctx.Err(); err != nil {
		return object{}, &store.Error{Op: op, Key: key, Err: err}
	}
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return object{}, &store.Error{Op: op, Key: key, Err: store.ErrNotFound, Permanent: true}
	}
	return o, nil
}

// List yields the objects and folders under prefix in key order, from a
// snapshot taken when the iteration starts.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) iter.Seq2[store.Object, error] {
	return func(yield func(store.Object, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(store.Object{}, &store.Error{Op: "list", Key: prefix, Err: err})
			return
		}
		for _, o := range s.snapshot(prefix, opts.Recursive) {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (s *Store) snapshot(prefix string, recursive bool) []store.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Object
	seen := map[string]bool{}
	for k, o := range s.objects {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if i := strings.Index(k[len(prefix):], "/"); !recursive && i >= 0 {
			p := k[:len(prefix)+i+1]
			if !seen[p] {
				seen[p] = true
				out = append(out, store.Object{Key: p, IsPrefix: true})
			}
			continue
		}
		out = append(out, o.info)
	}
	slices.SortFunc(out, func(a, b store.Object) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Delete removes the object key, if present.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := check("delete", key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return &store.Error{Op: "delete", Key: key, Err: err}
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

func check(op, key string) error {
	if err := store.CheckKey(key); err != nil {
		return &store.Error{Op: op, Key: key, Err: err, Permanent: true}
	}
	return nil
}
