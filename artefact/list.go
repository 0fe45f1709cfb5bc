package artefact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
)

// CatalogName is the per-scope cache of manifest summaries, <scope>/catalog.json.
// The listing of objects is the truth; the catalog only saves reading every
// manifest, so a missing, stale or damaged catalog costs time, never
// correctness.
const CatalogName = "catalog.json"

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
	// LastModified is the newest object of the backup, for ordering
	// incomplete ones.
	LastModified time.Time `json:"last-modified"`
}

// Duration is how long a complete backup took.
func (s Summary) Duration() time.Duration { return s.FinishedAt.Sub(s.StartedAt) }

// ListOptions narrows and tunes List.
type ListOptions struct {
	// Scope lists one scope; empty lists all.
	Scope string
	// UpdateCatalog writes back the catalogs that were stale.
	UpdateCatalog bool
	// Workers bounds the manifests read at once; 0 means 16.
	Workers int
}

// catalogEntry is a summary keyed by the manifest object it came from.
type catalogEntry struct {
	ManifestSize int64   `json:"manifest-size"`
	ManifestETag string  `json:"manifest-etag"`
	Summary      Summary `json:"summary"`
}

type catalog struct {
	FormatVersion int                     `json:"format-version"`
	Entries       map[string]catalogEntry `json:"entries"`
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
}

// List returns the backups under the store's root (or one scope), newest
// first: complete ones with their manifest's summary, incomplete ones (no
// manifest) with what a listing of their folder tells. Per scope it lists
// the backup folders and the index; it reads index entries only when the
// scope's catalog lacks them, and looks inside a folder only when it has no
// index entry (an incomplete backup, or one whose index copy was lost).
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
	folders := map[string]*folder{}
	hasCatalog := false
	for obj, err := range st.List(ctx, ScopeFolder(scope), store.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("cannot list backups of %s: %w", scope, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, ScopeFolder(scope)), "/")
		switch {
		case !obj.IsPrefix:
			hasCatalog = hasCatalog || name == CatalogName
		case namePattern.MatchString(name):
			folders[name] = &folder{sum: Summary{Scope: scope, JobID: name, Prefix: Ref{Scope: scope, JobID: name}.Path()}}
		}
	}
	for obj, err := range st.List(ctx, indexFolder(scope), store.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("cannot list the backup index of %s: %w", scope, err)
		}
		if f := folders[path.Base(obj.Key)]; f != nil && !obj.IsPrefix {
			o := obj
			f.index = &o
			f.sum.LastModified = obj.ModTime
		}
	}
	var cat catalog
	if hasCatalog {
		cat = readCatalog(ctx, st, scope)
	}
	var fromIndex, unindexed []*folder
	for _, f := range folders {
		switch e, ok := cat.Entries[f.sum.JobID]; {
		case f.index == nil:
			unindexed = append(unindexed, f)
		case ok && e.ManifestSize == f.index.Size && e.ManifestETag == f.index.ETag:
			last := f.sum.LastModified
			f.sum = e.Summary
			f.sum.LastModified = last
		default:
			fromIndex = append(fromIndex, f)
		}
	}
	err := forEach(fromIndex, opts.Workers, func(f *folder) error {
		return f.readIndex(ctx, st)
	})
	if err != nil {
		return nil, err
	}
	err = forEach(unindexed, opts.Workers, func(f *folder) error {
		return f.inspect(ctx, st, opts.UpdateCatalog)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(folders))
	indexed := 0
	for _, f := range folders {
		out = append(out, f.sum)
		if f.index != nil && f.sum.Complete {
			indexed++
		}
	}
	// The catalog is stale when an entry had to be read, or when it does
	// not hold exactly the indexed backups (one was deleted or repaired).
	if opts.UpdateCatalog && (len(fromIndex) > 0 || len(cat.Entries) != indexed) {
		writeCatalog(ctx, st, scope, folders)
	}
	return out, nil
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

// readCatalog reads a scope's catalog; an unusable one reads as empty.
func readCatalog(ctx context.Context, st store.Store, scope string) catalog {
	rc, err := st.Get(ctx, ScopeFolder(scope)+CatalogName)
	if err != nil {
		return catalog{}
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return catalog{}
	}
	c, err := parseCatalog(data)
	if err != nil {
		return catalog{}
	}
	return c
}

// parseCatalog reads a catalog; anything odd makes it unusable (it is a cache).
func parseCatalog(data []byte) (catalog, error) {
	var c catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return c, err
	}
	if c.FormatVersion != 1 {
		return c, fmt.Errorf("catalog format %d", c.FormatVersion)
	}
	for id, e := range c.Entries {
		if e.Summary.JobID != id || !e.Summary.Complete {
			return c, fmt.Errorf("catalog entry %q does not match", id)
		}
	}
	return c, nil
}

// writeCatalog stores the summaries of the complete backups of scope; a
// failure is ignored: the next listing reads the manifests again.
func writeCatalog(ctx context.Context, st store.Store, scope string, folders map[string]*folder) {
	c := catalog{FormatVersion: 1, Entries: map[string]catalogEntry{}}
	for _, f := range folders {
		if f.index != nil && f.sum.Complete {
			s := f.sum
			s.LastModified = time.Time{}
			c.Entries[s.JobID] = catalogEntry{ManifestSize: f.index.Size, ManifestETag: f.index.ETag, Summary: s}
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	_, _ = st.Put(ctx, ScopeFolder(scope)+CatalogName, bytes.NewReader(b), store.PutOptions{ContentType: "application/json"})
}
