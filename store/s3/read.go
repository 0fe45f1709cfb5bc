package s3

import (
	"context"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/store"
)

// listPage is the number of keys asked for per list request, S3's maximum.
const listPage = 1000

// Get opens key for reading. A read that fails mid-way on a transient
// fault reopens the object at the offset reached, from the same version.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, &store.Error{Op: "get", Bucket: s.bucket, Key: key, Err: err, Permanent: true}
	}
	r := &reader{s: s, ctx: ctx, full: s.full(key)}
	if err := r.open(0); err != nil {
		return nil, err
	}
	return r, nil
}

// Stat describes key.
func (s *Store) Stat(ctx context.Context, key string) (store.Object, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Object{}, &store.Error{Op: "stat", Bucket: s.bucket, Key: key, Err: err, Permanent: true}
	}
	full := s.full(key)
	var info minio.ObjectInfo
	err := s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		var err error
		info, err = s.core.StatObject(ctx, s.bucket, full, minio.StatObjectOptions{})
		return s.fail("stat", full, err)
	})
	if err != nil {
		return store.Object{}, err
	}
	return store.Object{Key: key, Size: info.Size, ModTime: info.LastModified, ETag: info.ETag}, nil
}

// List yields the objects and folders under prefix in key order, a page
// of up to 1,000 keys per request, grouping on "/" on the server unless
// opts.Recursive. A page that fails on a transient fault is asked for again.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) iter.Seq2[store.Object, error] {
	return func(yield func(store.Object, error) bool) {
		full, delim := s.full(prefix), "/"
		if opts.Recursive {
			delim = ""
		}
		token := ""
		for {
			var page minio.ListBucketV2Result
			err := s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
				var err error
				page, err = s.listPage(ctx, full, token, delim)
				return s.fail("list", full, err)
			})
			if err != nil {
				yield(store.Object{}, err)
				return
			}
			for _, obj := range s.pageObjects(page) {
				if !yield(obj, nil) {
					return
				}
			}
			if !page.IsTruncated || page.NextContinuationToken == "" {
				return
			}
			token = page.NextContinuationToken
		}
	}
}

// listPage asks for one page. The library's call takes no context, so a
// cancelled ctx returns at once and leaves the request to finish (bounded
// by the idle timeout) in the background.
func (s *Store) listPage(ctx context.Context, full, token, delim string) (minio.ListBucketV2Result, error) {
	type result struct {
		page minio.ListBucketV2Result
		err  error
	}
	done := make(chan result, 1)
	go func() {
		page, err := s.core.ListObjectsV2(s.bucket, full, "", token, delim, listPage)
		done <- result{page, err}
	}()
	select {
	case r := <-done:
		return r.page, r.err
	case <-ctx.Done():
		return minio.ListBucketV2Result{}, ctx.Err()
	}
}

// pageObjects merges a page's objects and common prefixes in key order,
// with keys relative to the configured path.
func (s *Store) pageObjects(page minio.ListBucketV2Result) []store.Object {
	out := make([]store.Object, 0, len(page.Contents)+len(page.CommonPrefixes))
	for _, c := range page.Contents {
		out = append(out, store.Object{Key: strings.TrimPrefix(c.Key, s.prefix), Size: c.Size, ModTime: c.LastModified, ETag: strings.Trim(c.ETag, `"`)})
	}
	for _, p := range page.CommonPrefixes {
		out = append(out, store.Object{Key: strings.TrimPrefix(p.Prefix, s.prefix), IsPrefix: true})
	}
	slices.SortFunc(out, func(a, b store.Object) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// reader reads an object, reopening it at the reached offset after a
// transient fault.
type reader struct {
	s      *Store
	ctx    context.Context
	full   string
	etag   string
	body   io.ReadCloser
	offset int64
	size   int64
}

func (r *reader) open(offset int64) error {
	return r.s.opts.Backoff.Do(r.ctx, func(ctx context.Context) error {
		var opts minio.GetObjectOptions
		if offset > 0 {
			if err := opts.SetRange(offset, 0); err != nil {
				return err
			}
			if err := opts.SetMatchETag(r.etag); err != nil {
				return err
			}
		}
		body, info, _, err := r.s.core.GetObject(r.ctx, r.s.bucket, r.full, opts)
		if err != nil {
			return r.s.fail("get", r.full, err)
		}
		if offset == 0 {
			r.etag, r.size = info.ETag, info.Size
		}
		r.body, r.offset = body, offset
		return nil
	})
}

func (r *reader) Read(p []byte) (int, error) {
	for tries := 0; ; tries++ {
		n, err := r.body.Read(p)
		r.offset += int64(n)
		if err == nil || err == io.EOF || n > 0 {
			if err == io.EOF && r.offset < r.size {
				err = io.ErrUnexpectedEOF
			} else {
				return n, err
			}
		}
		ferr := r.s.fail("read", r.full, err)
		if store.IsPermanent(ferr) || tries >= r.s.opts.Backoff.Attempts || r.ctx.Err() != nil {
			return n, ferr
		}
		r.body.Close()
		if oerr := r.open(r.offset); oerr != nil {
			return n, oerr
		}
	}
}

func (r *reader) Close() error { return r.body.Close() }
