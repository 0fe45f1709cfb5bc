package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/store"
)

// Put streams r into key. An object smaller than one part goes up in a
// single request; a larger one in a multipart upload with at most
// Concurrency+1 parts in memory. Each request is retried on its own, so a
// transient fault costs one part, not the upload. A failed upload is
// aborted so that the bucket keeps no orphan parts.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, opts store.PutOptions) (store.Object, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Object{}, &store.Error{Op: "put", Bucket: s.bucket, Key: key, Err: err, Permanent: true}
	}
	full := s.full(key)
	if err := ctx.Err(); err != nil {
		return store.Object{}, s.fail("put", full, err)
	}
	popts := s.put
	popts.ContentType = opts.ContentType
	first, err := readFirst(r, partSize(s.opts.PartSize, 1))
	if err != nil {
		return store.Object{}, s.fail("put", full, readError(ctx, err))
	}
	if len(first) < cap(first) {
		return s.putSingle(ctx, key, full, first, popts)
	}
	return s.putMultipart(ctx, key, full, first, r, popts)
}

// readFirst reads up to size bytes of r into a buffer that grows as they
// come, so that a small object (a manifest, a log) does not cost a whole
// part's memory. The buffer's capacity is size once it is full.
func readFirst(r io.Reader, size int) ([]byte, error) {
	buf := make([]byte, 0, min(size, 64<<10))
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return buf, nil
		case err != nil:
			return nil, err
		case len(buf) == size:
			return buf, nil
		}
		grown := make([]byte, len(buf), min(size, 4*cap(buf)))
		copy(grown, buf)
		buf = grown
	}
}

func (s *Store) putSingle(ctx context.Context, key, full string, data []byte, popts minio.PutObjectOptions) (store.Object, error) {
	var info minio.UploadInfo
	err := s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		var err error
		info, err = s.core.PutObject(ctx, s.bucket, full, bytes.NewReader(data), int64(len(data)), "", "", popts)
		return s.fail("put", full, err)
	})
	if err != nil {
		return store.Object{}, err
	}
	return store.Object{Key: key, Size: int64(len(data)), ETag: info.ETag, ModTime: info.LastModified}, nil
}

// part is one buffered part of a multipart upload.
type part struct {
	number int
	data   []byte
}

// upload is the state of one multipart upload shared by its workers.
type upload struct {
	s        *Store
	full, id string
	free     chan []byte // buffers to reuse

	mu    sync.Mutex
	parts []minio.CompletePart
	err   error
}

func (s *Store) putMultipart(ctx context.Context, key, full string, first []byte, r io.Reader, popts minio.PutObjectOptions) (store.Object, error) {
	var id string
	err := s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		var err error
		id, err = s.core.NewMultipartUpload(ctx, s.bucket, full, popts)
		return s.fail("start upload of", full, err)
	})
	if err != nil {
		return store.Object{}, err
	}
	up := &upload{s: s, full: full, id: id, free: make(chan []byte, s.opts.Concurrency+1)}
	size, err := up.run(ctx, first, r)
	if err == nil {
		err = up.complete(ctx, popts)
	}
	if err != nil {
		up.abort()
		return store.Object{}, s.fail("put", full, err)
	}
	st, err := s.Stat(ctx, key)
	if err != nil {
		return store.Object{}, err
	}
	if st.Size != size {
		return store.Object{}, s.fail("put", full, fmt.Errorf("stored %d bytes, sent %d", st.Size, size))
	}
	return st, nil
}

// run reads parts from r and uploads them with Concurrency workers. It
// returns the number of bytes read, or the first error.
func (u *upload) run(ctx context.Context, first []byte, r io.Reader) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan part)
	var wg sync.WaitGroup
	for range u.s.opts.Concurrency {
		wg.Go(func() {
			for p := range work {
				if err := u.send(ctx, p); err != nil {
					u.setErr(err)
					cancel()
				}
				u.free <- p.data[:0]
			}
		})
	}
	size, err := u.feed(ctx, first, r, work)
	if err != nil {
		u.setErr(err)
		cancel()
	}
	close(work)
	wg.Wait()
	return size, u.firstErr()
}

// feed sends the parts of first+r to work until r ends or ctx is done.
func (u *upload) feed(ctx context.Context, first []byte, r io.Reader, work chan<- part) (int64, error) {
	size := int64(len(first))
	// Tokens for the buffers still to allocate; the first is in hand.
	for range u.s.opts.Concurrency {
		u.free <- nil
	}
	next := part{number: 1, data: first}
	for {
		select {
		case work <- next:
		case <-ctx.Done():
			return size, ctx.Err()
		}
		if len(next.data) < cap(next.data) || next.number == maxParts {
			// A short part was the last one; the part limit ends the upload.
			if next.number == maxParts {
				if n, _ := io.ReadFull(r, make([]byte, 1)); n > 0 {
					return size, errors.New("object exceeds the multipart upload's 10,000 parts")
				}
			}
			return size, nil
		}
		var buf []byte
		select {
		case buf = <-u.free:
		case <-ctx.Done():
			return size, ctx.Err()
		}
		want := partSize(u.s.opts.PartSize, next.number+1)
		if cap(buf) < want {
			buf = make([]byte, want)
		}
		buf = buf[:want]
		n, err := io.ReadFull(r, buf)
		size += int64(n)
		switch {
		case err == io.EOF:
			return size, nil
		case err == io.ErrUnexpectedEOF, err == nil:
		default:
			return size, readError(ctx, err)
		}
		next = part{number: next.number + 1, data: buf[:n:want]}
	}
}

func (u *upload) send(ctx context.Context, p part) error {
	return u.s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		// A part request, once sent, runs to its end (or its own timeout)
		// even when the upload is given up: the server may still be
		// storing a part whose request the client cancelled when the abort
		// arrives, and bring the upload back after it (versitygw does),
		// leaving orphan parts. No retry starts after a cancel.
		info, err := u.s.core.PutObjectPart(context.WithoutCancel(ctx), u.s.bucket, u.full, u.id, p.number,
			bytes.NewReader(p.data), int64(len(p.data)), partOptions)
		if err != nil {
			return u.s.fail(fmt.Sprintf("upload part %d of", p.number), u.full, err)
		}
		u.mu.Lock()
		u.parts = append(u.parts, minio.CompletePart{PartNumber: p.number, ETag: info.ETag})
		u.mu.Unlock()
		return nil
	})
}

func (u *upload) complete(ctx context.Context, popts minio.PutObjectOptions) error {
	slices.SortFunc(u.parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	return u.s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		_, err := u.s.core.CompleteMultipartUpload(ctx, u.s.bucket, u.full, u.id, u.parts, popts)
		if err != nil && errResponse(err).Code == "NoSuchUpload" {
			// An earlier try completed it but its answer was lost; Put's
			// final Stat checks the size.
			return nil
		}
		return u.s.fail("complete upload of", u.full, err)
	})
}

// abort drops the parts of a failed upload, best effort, even when the
// caller's context is already done.
func (u *upload) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), u.s.opts.IdleTimeout)
	defer cancel()
	_ = u.s.core.AbortMultipartUpload(ctx, u.s.bucket, u.full, u.id)
}

func (u *upload) setErr(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil || (errors.Is(u.err, context.Canceled) && !errors.Is(err, context.Canceled)) {
		u.err = err
	}
}

func (u *upload) firstErr() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// partSize returns the size of part number n (from 1): base for the first
// 1,000 parts, doubling every 1,000 after, up to S3's 5 GiB part limit.
// Small first parts keep memory low (the upload holds Concurrency+1 of
// them) for every backup of less than 1,000 parts; the doubling lets an
// upload grow to terabytes within S3's 10,000 parts.
func partSize(base, n int) int {
	return min(base<<((n-1)/1000), maxPartSize)
}

// readError returns the context's error when the caller gave up, which is
// then the cause of the failed read, and err as a sourceError otherwise.
func readError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return &sourceError{err: err}
}

// sourceError is a failure to read the data to upload: retrying the
// request cannot help, as the bytes are gone.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "read source: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// partOptions send each part with an unsigned payload (the request itself
// stays signed): over plain HTTP the client would otherwise sign every
// 64 KiB chunk with SHA-256 (aws-chunked) and the server check it, two
// SHA-256 passes over the whole upload on the machine's CPU for no
// protection the data lacks: every frame of an artefact carries its own
// SHA-256 (or AES-GCM tag) and the manifest the digest of the whole
// object, all checked on restore and by verify. Over HTTPS the client
// sends unsigned payloads anyway.
var partOptions = minio.PutObjectPartOptions{DisableContentSha256: true}
