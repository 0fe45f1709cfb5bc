package bench

import (
	"context"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/store"
)

// traceStore records when each call on a store starts and ends, relative to
// its creation, to show where a pipeline's wall time goes.
type traceStore struct {
	store.Store
	start time.Time
	mu    sync.Mutex
	lines []string
}

func newTraceStore(st store.Store) *traceStore { return &traceStore{Store: st, start: time.Now()} }

func (t *traceStore) note(op, key string, began time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, fmt.Sprintf("%-6s %-40s %6.3fs .. %6.3fs", op, key, began.Sub(t.start).Seconds(), time.Since(t.start).Seconds()))
}

func (t *traceStore) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func (t *traceStore) Put(ctx context.Context, key string, r io.Reader, opts store.PutOptions) (store.Object, error) {
	began := time.Now()
	defer t.note("put", key, began)
	return t.Store.Put(ctx, key, r, opts)
}

func (t *traceStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	began := time.Now()
	defer t.note("get", key, began)
	return t.Store.Get(ctx, key)
}

func (t *traceStore) Stat(ctx context.Context, key string) (store.Object, error) {
	began := time.Now()
	defer t.note("stat", key, began)
	return t.Store.Stat(ctx, key)
}

func (t *traceStore) List(ctx context.Context, prefix string, opts store.ListOptions) iter.Seq2[store.Object, error] {
	began := time.Now()
	defer t.note("list", prefix, began)
	return t.Store.List(ctx, prefix, opts)
}
