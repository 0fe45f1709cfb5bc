package s3

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"

	"github.com/dbbackup/dbbackup/store"
)

var _ store.Uploads = (*Store)(nil)

// ListUploads yields the multipart uploads under prefix that were started
// and neither completed nor aborted, in key order within each page of the
// server's answer, with keys relative to the configured path. Uploads
// outside the configured path are never yielded.
//
// MinIO reads the prefix of this request as one exact object name (and
// answers nothing for a folder) but lists every upload of the bucket for an
// empty prefix, so a prefix that finds nothing is asked again bucket-wide
// and filtered here. On a server that honours the prefix that costs one
// more request, which answers few uploads: only unfinished ones exist.
func (s *Store) ListUploads(ctx context.Context, prefix string) iter.Seq2[store.Upload, error] {
	return func(yield func(store.Upload, error) bool) {
		full := s.full(prefix)
		n, ok := s.listUploads(ctx, full, full, yield)
		if ok && n == 0 && full != "" {
			s.listUploads(ctx, "", full, yield)
		}
	}
}

// listUploads yields the uploads that the server lists for query and whose
// keys start with full. It returns how many it yielded and whether the
// caller may go on (no error, no break).
func (s *Store) listUploads(ctx context.Context, query, full string, yield func(store.Upload, error) bool) (int, bool) {
	var keyMarker, idMarker string
	n := 0
	for {
		var ups []store.Upload
		var truncated bool
		var nextKey, nextID string
		err := s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
			page, err := s.core.ListMultipartUploads(ctx, s.bucket, query, keyMarker, idMarker, "", listPage)
			if err != nil {
				return s.fail("list uploads under", full, err)
			}
			ups = ups[:0]
			for _, u := range page.Uploads {
				if strings.HasPrefix(u.Key, full) {
					ups = append(ups, store.Upload{Key: strings.TrimPrefix(u.Key, s.prefix), ID: u.UploadID, Initiated: u.Initiated})
				}
			}
			truncated, nextKey, nextID = page.IsTruncated, page.NextKeyMarker, page.NextUploadIDMarker
			return nil
		})
		if err != nil {
			yield(store.Upload{}, err)
			return n, false
		}
		slices.SortStableFunc(ups, func(a, b store.Upload) int { return strings.Compare(a.Key, b.Key) })
		for _, u := range ups {
			n++
			if !yield(u, nil) {
				return n, false
			}
		}
		if !truncated {
			return n, true
		}
		if nextKey == "" || (nextKey == keyMarker && nextID == idMarker) {
			// A page that does not move the listing on would loop forever.
			yield(store.Upload{}, s.fail("list uploads under", full, errors.New("server answered a truncated page without a next marker")))
			return n, false
		}
		keyMarker, idMarker = nextKey, nextID
	}
}

// AbortUpload drops the multipart upload u and its parts; an upload that is
// already gone is not an error.
func (s *Store) AbortUpload(ctx context.Context, u store.Upload) error {
	if err := store.CheckKey(u.Key); err != nil {
		return &store.Error{Op: "abort upload of", Bucket: s.bucket, Key: u.Key, Err: err, Permanent: true}
	}
	if u.ID == "" {
		return &store.Error{Op: "abort upload of", Bucket: s.bucket, Key: u.Key, Err: errors.New("upload id is empty"), Permanent: true}
	}
	return s.abort(ctx, s.full(u.Key), u.ID)
}

// abort drops the multipart upload id of the bucket's key full, retrying
// transient failures.
func (s *Store) abort(ctx context.Context, full, id string) error {
	return s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		err := s.core.AbortMultipartUpload(ctx, s.bucket, full, id)
		if err != nil && errResponse(err).Code == "NoSuchUpload" {
			return nil
		}
		return s.fail("abort upload of", full, err)
	})
}

// listed reports whether the server lists upload id of key (relative to the
// configured path).
func (s *Store) listed(ctx context.Context, key, id string) (bool, error) {
	for u, err := range s.ListUploads(ctx, key) {
		if err != nil {
			return false, err
		}
		if u.Key == key && u.ID == id {
			return true, nil
		}
	}
	return false, nil
}
