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
// store, "<scope>/" for one scope, "<scope>/<job-id>/" for one backup. They
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
	if f, ok := FolderOf(prefix + ManifestName); !ok || f != prefix {
		return 0, fmt.Errorf("cannot abort the uploads of %q: not a backup folder (<scope>/<job-id>/)", prefix)
	}
	ups, err := Uploads(ctx, st, prefix)
	if err != nil {
		return 0, err
	}
	us := st.(store.Uploads)
	n := 0
	for _, u := range ups {
		if err := us.AbortUpload(ctx, u); err != nil {
			return n, fmt.Errorf("cannot abort the upload of %s: %w", u.Key, err)
		}
		n++
	}
	return n, nil
}

// FolderOf returns the backup folder (<scope>/<job-id>/) that holds
// key, and false for a key outside any backup folder (a scope's catalog or
// index, or a key of something else).
func FolderOf(key string) (string, bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 3 || parts[2] == "" || !scopePattern.MatchString(parts[0]) || !scopePattern.MatchString(parts[1]) {
		return "", false
	}
	return parts[0] + "/" + parts[1] + "/", true
}
