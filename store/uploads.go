package store

import (
	"context"
	"iter"
	"time"
)

// Uploads is implemented by backends whose writes can leave unfinished
// uploads behind: the parts of a multipart upload that a killed process
// never completed or aborted. They are invisible to List, yet cost storage
// until someone aborts them.
type Uploads interface {
	// ListUploads yields the unfinished uploads whose keys start with
	// prefix, in key order. Breaking out of the loop stops the listing; an
	// error ends it.
	ListUploads(ctx context.Context, prefix string) iter.Seq2[Upload, error]
	// AbortUpload drops the upload u and its parts. Aborting an upload
	// that no longer exists is not an error.
	AbortUpload(ctx context.Context, u Upload) error
}

// Upload describes an unfinished upload.
type Upload struct {
	// Key is the key the upload would create, relative to the store.
	Key string
	// ID is the backend's identifier of the upload.
	ID string
	// Initiated is the time the upload started.
	Initiated time.Time
}
