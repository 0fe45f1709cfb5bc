package artefact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
)

// Summary is one backup as a listing shows it.
type Summary struct {
	Scope       string        `json:"scope"`
	JobID       string        `json:"job-id"`
	Prefix      string        `json:"prefix"`
	Complete    bool          `json:"complete"`
	Engine      engine.Kind   `json:"engine,omitempty"`
	Method      engine.Method `json:"method,omitempty"`
	Databases   []string      `json:"databases,omitempty"`
	StartedAt   time.Time     `json:"started-at,omitzero"`
	FinishedAt  time.Time     `json:"finished-at,omitzero"`
	RawBytes    int64         `json:"raw-bytes"`
	StoredBytes int64         `json:"stored-bytes"`
	Compression string        `json:"compression,omitempty"`
	Encryption  string        `json:"encryption,omitempty"`
	// KeyFingerprint names the key of an encrypted backup (Fingerprint).
	KeyFingerprint string `json:"key-fingerprint,omitempty"`
	// ServerVersion is the version of the server the backup was taken of,
	// as the manifest records it.
	ServerVersion string `json:"server-version,omitempty"`
	// Binlog is where a MariaDB backup stands in the binary log, from
	// its manifest; a restore to a time replays from there.
	Binlog *engine.BinlogPosition `json:"binlog,omitempty"`
	// LastModified is the newest object of the backup (for a backup listed
	// from its card, its finish time, when its manifest was written), for ordering
	// incomplete ones.
	LastModified time.Time `json:"last-modified"`
}

// Duration is how long a complete backup took.
func (s Summary) Duration() time.Duration { return s.FinishedAt.Sub(s.StartedAt) }

// ListOptions narrows and tunes List.
type ListOptions struct {
	// Scope lists one scope; empty lists all.
	Scope string
	// Repair writes what a listing found missing: the index entry and the
	// card of a complete backup that lacks them (a backup killed between
	// its manifest and its card, or one written before cards existed), so
	// that the next listing reads no object.
	Repair bool
	// Workers bounds the objects read or written at once; 0 means 16.
	Workers int
}

// indexDir is the folder, beside a scope's backup folders, holding a copy
// of each complete backup's manifest under its job id: <scope>/_index/<job-id>
// (Ref.IndexKey).
// It is written after the manifest, so a listing finds every complete
// backup with two flat listings (the scope and its index) instead of
// walking every backup folder. Job ids never start with "_".
const indexDir = "_index"

// folder gathers what a listing knows of one backup folder.
type folder struct {
	sum   Summary
	index *store.Object // the manifest copy in the scope's index
	cards []string      // the folders of its cards
}

// List returns the backups under the store's root (or one scope), newest
// first: complete ones with their manifest's summary, incomplete ones (no
// manifest) with what a listing of their folder tells. Per scope it lists
// the backup folders and the cards, whose keys carry the summaries of the
// complete backups; only when a folder has no usable card does it list
// the index and read that backup's index entry, and it looks inside a
// folder only when it has no index entry either (an incomplete backup, or
// one whose index copy was lost).
func List(ctx context.Context, st store.Store, opts ListOptions) ([]Summary, error) {
	var scopes []string
	if opts.Scope != "" {
		if err := CheckScope(opts.Scope); err != nil {
			return nil, err
		}
		scopes = []string{opts.Scope}
	} else {
		for obj, err := range st.List(ctx, "", store.ListOptions{}) {
			if err != nil {
				return nil, fmt.Errorf("cannot list backups: %w", err)
			}
			if name := strings.TrimSuffix(obj.Key, "/"); obj.IsPrefix && namePattern.MatchString(name) {
				scopes = append(scopes, name)
			}
		}
	}
	var out []Summary
	for _, scope := range scopes {
		sums, err := listScope(ctx, st, scope, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, sums...)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].order(), out[j].order()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].Prefix > out[j].Prefix
	})
	return out, nil
}

// listScope lists the backups of one scope.
func listScope(ctx context.Context, st store.Store, scope string, opts ListOptions) ([]Summary, error) {
	// The cards are listed while the folders are.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listed := make(chan scopeCards, 1)
	go func() { listed <- listCards(ctx, st, scope) }()
	folders := map[string]*folder{}
	for obj, err := range st.List(ctx, ScopeFolder(scope), store.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("cannot list backups of %s: %w", scope, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, ScopeFolder(scope)), "/")
		if obj.IsPrefix && namePattern.MatchString(name) {
			folders[name] = &folder{sum: Summary{Scope: scope, JobID: name, Prefix: Ref{Scope: scope, JobID: name}.Path()}}
		}
	}
	cards := <-listed
	if cards.err != nil {
		return nil, cards.err
	}
	uncarded := map[string]*folder{}
	for id, f := range folders {
		f.cards = cards.folders[id]
		if s, ok := cards.sums[id]; ok {
			f.sum = s
		} else {
			uncarded[id] = f
		}
	}
	if len(uncarded) > 0 {
		if err := listUncarded(ctx, st, scope, uncarded, opts); err != nil {
			return nil, err
		}
	}
	out := make([]Summary, 0, len(folders))
	for _, f := range folders {
		out = append(out, f.sum)
	}
	return out, nil
}

// listUncarded fills the summaries of the folders without a usable card,
// by job id, from the scope's index, or from the folders themselves; with
// opts.Repair it writes the cards (and index entries) it found missing.
func listUncarded(ctx context.Context, st store.Store, scope string, uncarded map[string]*folder, opts ListOptions) error {
	for obj, err := range st.List(ctx, indexFolder(scope), store.ListOptions{}) {
		if err != nil {
			return fmt.Errorf("cannot list the backup index of %s: %w", scope, err)
		}
		if f := uncarded[path.Base(obj.Key)]; f != nil && !obj.IsPrefix {
			o := obj
			f.index = &o
			f.sum.LastModified = obj.ModTime
		}
	}
	var all, fromIndex, unindexed []*folder
	for _, f := range uncarded {
		all = append(all, f)
		if f.index == nil {
			unindexed = append(unindexed, f)
		} else {
			fromIndex = append(fromIndex, f)
		}
	}
	if err := forEach(fromIndex, opts.Workers, func(f *folder) error {
		return f.readIndex(ctx, st)
	}); err != nil {
		return err
	}
	if err := forEach(unindexed, opts.Workers, func(f *folder) error {
		return f.inspect(ctx, st, opts.Repair)
	}); err != nil {
		return err
	}
	if !opts.Repair {
		return nil
	}
	// A repair is best effort: the first write the store refuses (a
	// lister with read-only keys) ends it, so that such a listing does not
	// try once per backup each time.
	var refused atomic.Bool
	return forEach(all, opts.Workers, func(f *folder) error {
		if f.sum.Complete && f.index != nil && !refused.Load() {
			if writeCard(ctx, st, f.sum, f.cards) != nil {
				refused.Store(true)
			}
		}
		return nil
	})
}

// readIndex fills the summary from the index copy of the manifest; a copy
// that does not parse sends the folder to inspect.
func (f *folder) readIndex(ctx context.Context, st store.Store) error {
	m, err := readManifestAt(ctx, st, f.sum.Ref().IndexKey())
	if err == nil && m.JobID == f.sum.JobID {
		f.sum.fill(m)
		return nil
	}
	if err != nil && !errors.Is(err, ErrBadManifest) && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	f.index = nil
	return f.inspect(ctx, st, false)
}

// inspect lists a folder without an index entry: a manifest makes it
// complete (and its index entry is restored when repair is set);
// otherwise it is incomplete and the listing gives its size, time and engine.
func (f *folder) inspect(ctx context.Context, st store.Store, repair bool) error {
	var manifest *store.Object
	for obj, err := range st.List(ctx, f.sum.Prefix, store.ListOptions{Recursive: true}) {
		if err != nil {
			return fmt.Errorf("cannot list backup %s: %w", f.sum.Prefix, err)
		}
		name := strings.TrimPrefix(obj.Key, f.sum.Prefix)
		f.sum.StoredBytes += obj.Size
		if obj.ModTime.After(f.sum.LastModified) {
			f.sum.LastModified = obj.ModTime
		}
		switch {
		case name == ManifestName:
			o := obj
			manifest = &o
		case strings.HasSuffix(name, dataSuffix):
			f.sum.Engine = engineOf(name)
		case name == StartedName && f.sum.Engine == "":
			f.sum.Engine = startedEngine(ctx, st, obj.Key)
		}
	}
	if manifest == nil {
		return nil
	}
	m, err := ReadManifest(ctx, st, f.sum.Prefix)
	switch {
	case errors.Is(err, ErrBadManifest) || errors.Is(err, ErrIncomplete) || errors.Is(err, ErrNoBackup):
		return nil
	case err != nil:
		return err
	}
	f.sum.fill(m)
	if repair {
		if obj, err := writeIndex(ctx, st, f.sum.Ref(), m); err == nil {
			f.index = &obj
		}
	}
	return nil
}

// startedEngine reads the engine from a start marker, or "".
func startedEngine(ctx context.Context, st store.Store, key string) engine.Kind {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var m struct {
		Engine engine.Kind `json:"engine"`
	}
	if json.NewDecoder(io.LimitReader(rc, 4096)).Decode(&m) != nil {
		return ""
	}
	if m.Engine != engine.PostgreSQL && m.Engine != engine.MySQL {
		return ""
	}
	return m.Engine
}

// forEach runs fn on every folder, a bounded number at once, and returns
// the first error.
func forEach(folders []*folder, workers int, fn func(*folder) error) error {
	if workers <= 0 {
		workers = 16
	}
	work := make(chan *folder)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(workers, len(folders)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := fn(f); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range folders {
		work <- f
	}
	close(work)
	wg.Wait()
	return firstErr
}

func (s Summary) order() time.Time {
	if s.Complete {
		return s.FinishedAt
	}
	return s.LastModified
}

// summary returns the listing's summary of the complete backup m.
func (m Manifest) summary() Summary {
	ref := m.Ref()
	s := Summary{Scope: ref.Scope, JobID: ref.JobID, Prefix: ref.Path()}
	s.fill(m)
	return s
}

// fill sets the summary from a manifest.
func (s *Summary) fill(m Manifest) {
	s.Complete = true
	s.Engine, s.Method, s.Databases = m.Engine.Kind, m.Engine.Method, m.Engine.Databases
	s.StartedAt, s.FinishedAt = m.StartedAt, m.FinishedAt
	s.RawBytes, s.StoredBytes = m.RawBytes, m.StoredBytes
	s.Compression, s.Encryption, s.KeyFingerprint = m.Compression, m.Encryption, m.KeyFingerprint
	s.Binlog = m.Engine.Binlog
	s.ServerVersion = m.Engine.ServerVersion
}
