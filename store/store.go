// Package store defines the small object-storage interface the artefact
// pipeline writes to and reads from, its shared errors, and the retry policy
// backends use. Backends live in sub-packages (store/s3, store/memstore) and
// all pass the conformance suite in store/storetest.
package store

import (
	"context"
	"io"
	"iter"
	"time"
)

// Store is an object store holding objects under relative keys such as
// "scope/job-id/manifest.json". Keys use "/" as the folder separator; a
// backend maps them to its own namespace (the s3 backend prepends the
// configured Path).
type Store interface {
	// Put streams r into the object key, replacing any object there. The size
	// need not be known: backends never hold the whole object in memory or
	// on disk. Put returns the stored object's description.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Object, error)
	// Get opens the object key for reading. It returns an error wrapping
	// ErrNotFound when there is no such object. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object key, or returns an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// List yields, in key order, the objects whose keys start with prefix.
	// Unless opts.Recursive is set, keys with a "/" after the prefix are
	// grouped into one Object per "folder" with IsPrefix set. Breaking out of
	// the loop stops the listing; an error ends it.
	List(ctx context.Context, prefix string, opts ListOptions) iter.Seq2[Object, error]
	// Delete removes the object key. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// PrefixDeleter is implemented by backends that delete many objects in one
// request; DeletePrefix uses it when present.
type PrefixDeleter interface {
	// DeletePrefix removes every object whose key starts with prefix.
	DeletePrefix(ctx context.Context, prefix string) error
}

// Object describes a stored object, or a common prefix ("folder") yielded
// by a non-recursive List.
type Object struct {
	// Key is the object's key relative to the store; for a prefix it ends
	// with "/".
	Key string
	// Size is the object's size in bytes (0 for a prefix).
	Size int64
	// ModTime is the time the object was last written (zero for a prefix).
	ModTime time.Time
	// ETag is the backend's opaque version tag of the content, if any.
	ETag string
	// IsPrefix reports a common prefix rather than an object.
	IsPrefix bool
}

// PutOptions tunes one Put.
type PutOptions struct {
	// ContentType is the MIME type stored with the object; empty means
	// application/octet-stream.
	ContentType string
}

// ListOptions tunes one List.
type ListOptions struct {
	// Recursive lists every object below the prefix instead of grouping
	// deeper keys into folders.
	Recursive bool
}

// DeletePrefix removes every object of s whose key starts with prefix, in
// batches when s is a PrefixDeleter and one by one otherwise. An empty
// prefix is refused, so a slip cannot empty a whole store.
func DeletePrefix(ctx context.Context, s Store, prefix string) error {
	if prefix == "" {
		return &Error{Op: "delete prefix", Err: errEmptyPrefix, Permanent: true}
	}
	if d, ok := s.(PrefixDeleter); ok {
		return d.DeletePrefix(ctx, prefix)
	}
	for obj, err := range s.List(ctx, prefix, ListOptions{Recursive: true}) {
		if err != nil {
			return err
		}
		if err := s.Delete(ctx, obj.Key); err != nil {
			return err
		}
	}
	return nil
}
