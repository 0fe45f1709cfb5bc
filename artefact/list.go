package artefact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// folder gathers the objects of one backup folder.
type folder struct {
	sum      Summary
	manifest *store.Object
}

// List returns the backups under the store's root (or one scope), newest
// first: complete ones with their manifest's summary, incomplete ones (no
// manifest) with what the listing tells. One recursive listing finds them;
// manifests are read only when the scope's catalog lacks them.
func List(ctx context.Context, st store.Store, opts ListOptions) ([]Summary, error) {
	prefix := ""
	if opts.Scope != "" {
		if !scopePattern.MatchString(opts.Scope) {
			return nil, fmt.Errorf("scope %q is not a valid scope", opts.Scope)
		}
		prefix = opts.Scope + "/"
	}
	folders := map[string]*folder{}
	catalogs := map[string]bool{}
	for obj, err := range st.List(ctx, prefix, store.ListOptions{Recursive: true}) {
		if err != nil {
			return nil, fmt.Errorf("cannot list backups: %w", err)
		}
		parts := strings.Split(obj.Key, "/")
		if len(parts) == 2 && parts[1] == CatalogName {
			catalogs[parts[0]] = true
			continue
		}
		if len(parts) != 3 || !scopePattern.MatchString(parts[0]) || !scopePattern.MatchString(parts[1]) {
			continue
		}
		key := parts[0] + "/" + parts[1] + "/"
		f := folders[key]
		if f == nil {
			f = &folder{sum: Summary{Scope: parts[0], JobID: parts[1], Prefix: key}}
			folders[key] = f
		}
		f.sum.StoredBytes += obj.Size
		if obj.ModTime.After(f.sum.LastModified) {
			f.sum.LastModified = obj.ModTime
		}
		switch {
		case parts[2] == ManifestName:
			o := obj
			f.manifest = &o
		case strings.HasSuffix(parts[2], dataSuffix):
			f.sum.Engine = engineOf(parts[2])
		}
	}
	cats := readCatalogs(ctx, st, catalogs)
	stale := map[string]bool{}
	var todo []*folder
	for _, f := range folders {
		if f.manifest == nil {
			continue
		}
		if e, ok := cats[f.sum.Scope].Entries[f.sum.JobID]; ok && e.ManifestSize == f.manifest.Size && e.ManifestETag == f.manifest.ETag {
			last := f.sum.LastModified
			f.sum = e.Summary
			f.sum.LastModified = last
			continue
		}
		todo = append(todo, f)
		stale[f.sum.Scope] = true
	}
	if err := readManifests(ctx, st, todo, opts.Workers); err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(folders))
	for _, f := range folders {
		out = append(out, f.sum)
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].order(), out[j].order()
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return out[i].Prefix > out[j].Prefix
	})
	if opts.UpdateCatalog {
		for scope := range stale {
			writeCatalog(ctx, st, scope, folders)
		}
	}
	return out, nil
}

func (s Summary) order() time.Time {
	if s.Complete {
		return s.FinishedAt
	}
	return s.LastModified
}

// readManifests fills the summaries of folders from their manifests, with
// a bounded number of reads at once. A manifest that cannot be parsed makes
// its backup incomplete, not the listing fail.
func readManifests(ctx context.Context, st store.Store, todo []*folder, workers int) error {
	if workers <= 0 {
		workers = 16
	}
	work := make(chan *folder)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				m, err := ReadManifest(ctx, st, f.sum.Prefix)
				switch {
				case err == nil:
					f.sum.fill(m)
				case errors.Is(err, ErrBadManifest) || errors.Is(err, ErrIncomplete):
					f.manifest = nil
				default:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range todo {
		work <- f
	}
	close(work)
	wg.Wait()
	return firstErr
}

// fill sets the summary from a manifest.
func (s *Summary) fill(m Manifest) {
	s.Complete = true
	s.Engine, s.Method, s.Databases = m.Engine.Kind, m.Engine.Method, m.Engine.Databases
	s.StartedAt, s.FinishedAt = m.StartedAt, m.FinishedAt
	s.RawBytes, s.StoredBytes = m.RawBytes, m.StoredBytes
	s.Compression, s.Encryption = m.Compression, m.Encryption
}

func readCatalogs(ctx context.Context, st store.Store, scopes map[string]bool) map[string]catalog {
	out := map[string]catalog{}
	for scope := range scopes {
		rc, err := st.Get(ctx, scope+"/"+CatalogName)
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(rc, 256<<20))
		rc.Close()
		if err != nil {
			continue
		}
		if c, err := parseCatalog(data); err == nil {
			out[scope] = c
		}
	}
	return out
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
		if f.sum.Scope == scope && f.manifest != nil && f.sum.Complete {
			s := f.sum
			s.LastModified = time.Time{}
			c.Entries[s.JobID] = catalogEntry{ManifestSize: f.manifest.Size, ManifestETag: f.manifest.ETag, Summary: s}
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	_, _ = st.Put(ctx, scope+"/"+CatalogName, bytes.NewReader(b), store.PutOptions{ContentType: "application/json"})
}
