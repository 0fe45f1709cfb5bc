package artefact

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dbbackup/dbbackup/store"
)

// ErrUploadsUnsupported is returned by Uploads and AbortUploads for a store
// that cannot list unfinished uploads (one that is not a store.Uploads).
var ErrUploadsUnsupported = errors.New("the store cannot list unfinished uploads")

// Uploads returns the unfinished uploads under prefix: "" for the whole
// store, ScopeFolder for one scope, Ref.Path for one backup. They
// are what a backup killed or failed midway left of the objects it was
// writing: parts that cost storage and that no listing of objects shows.
func Uploads(ctx context.Context, st store.Store, prefix string) ([]store.Upload, error) {
	us, ok := st.(store.Uploads)
	if !ok {
		return nil, ErrUploadsUnsupported
	}
	var out []store.Upload
	for u, err := range us.ListUploads(ctx, prefix) {
		if err != nil {
			return nil, fmt.Errorf("cannot list the unfinished uploads under %q: %w", prefix, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// AbortUploads aborts the unfinished uploads of the backup folder prefix
// (<scope>/<job-id>/) and returns how many it aborted. The caller makes
// sure that no backup is writing there any more: a running backup's upload
// is one of them.
func AbortUploads(ctx context.Context, st store.Store, prefix string) (int, error) {
	if ref, ok := RefOf(prefix + ManifestName); !ok || ref.Path() != prefix {
		return 0, fmt.Errorf("cannot abort the uploads of %q: not a backup folder (<scope>/<job-id>/)", prefix)
	}
	return abortFolderUploads(ctx, st, prefix)
}

// abortFolderUploads aborts the unfinished uploads of the objects directly
// in the folder prefix, wherever the store is rooted.
func abortFolderUploads(ctx context.Context, st store.Store, prefix string) (int, error) {
	ups, err := Uploads(ctx, st, prefix)
	if err != nil {
		return 0, err
	}
	us := st.(store.Uploads)
	n := 0
	for _, u := range ups {
		if strings.Contains(strings.TrimPrefix(u.Key, prefix), "/") {
			continue // not this backup's: Delete refuses folders that hold folders
		}
		if err := us.AbortUpload(ctx, u); err != nil {
			return n, fmt.Errorf("cannot abort the upload of %s: %w", u.Key, err)
		}
		n++
	}
	return n, nil
}
