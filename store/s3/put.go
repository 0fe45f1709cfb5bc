package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/store"
)

// Put streams r into key. An object smaller than one part goes up in a
// single request; a larger one in a multipart upload with at most
// Concurrency+1 parts in memory (one when Sequential). Each request is retried on its own, so a
// transient fault costs one part, not the upload. A failed upload is
// aborted on every path (source error, part error, completion error,
// cancelled context) so that the bucket keeps no orphan parts, and so is
// an upload that an earlier try started but whose answer was lost. When an
// abort fails, the error says that parts are left behind; ListUploads
// finds them.
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
// part's memory. The buffer's capacity is size once it is full. It grows
// 16-fold (64 KiB, 1 MiB, then the part), so that a large object leaves
// about 1 MiB of garbage behind it, not the 5 MiB of a 4-fold growth.
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
		grown := make([]byte, len(buf), min(size, 16*cap(buf)))
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
	id, tries, err := s.startUpload(ctx, full, popts)
	if err != nil {
		if tries > 0 && errResponse(err).Code == "" {
			// No answer came: the server may have started an upload.
			if aerr := s.abortOthers(ctx, full, ""); aerr != nil {
				err = fmt.Errorf("%w; parts may be left behind: %w", err, aerr)
			}
		}
		return store.Object{}, err
	}
	up := &upload{s: s, full: full, id: id, free: make(chan []byte, s.opts.Concurrency+1)}
	var size int64
	if err = ctx.Err(); err == nil {
		size, err = up.run(ctx, first, r)
	}
	if err == nil {
		err = up.complete(ctx, popts)
	}
	var left []error // aborts that failed: parts left behind
	if tries > 1 {
		// An earlier try may have started an upload whose answer was
		// lost. Should this fail, the upload is listed by `dbbackup list`
		// and aborted by the manager's retention; it does not fail a Put
		// that stored its object.
		left = append(left, s.abortOthers(ctx, full, id))
	}
	if err != nil {
		err = s.fail("put", full, err)
		left = append(left, up.abort(ctx))
		if lerr := errors.Join(left...); lerr != nil {
			err = fmt.Errorf("%w; parts are left behind: %w", err, lerr)
		}
		return store.Object{}, err
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

// startUpload starts the multipart upload of full and returns its id and
// the number of requests it sent. Each request runs to its end even if
// ctx is cancelled meanwhile: a server that started the upload must tell
// its id, or nothing could abort it.
func (s *Store) startUpload(ctx context.Context, full string, popts minio.PutObjectOptions) (id string, tries int, err error) {
	err = s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		tries++
		var err error
		id, err = s.core.NewMultipartUpload(context.WithoutCancel(ctx), s.bucket, full, popts)
		return s.fail("start upload of", full, err)
	})
	return id, tries, err
}

// abortOthers aborts the uploads of full other than id: those of earlier
// tries of startUpload whose answers were lost. A key has one writer (a
// backup's keys are its own), so no other upload of it is legitimate.
func (s *Store) abortOthers(ctx context.Context, full, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	key := strings.TrimPrefix(full, s.prefix)
	var others []string
	for u, err := range s.ListUploads(ctx, key) {
		if err != nil {
			return err
		}
		if u.Key == key && u.ID != id {
			others = append(others, u.ID)
		}
	}
	var errs []error
	for _, other := range others {
		errs = append(errs, s.abort(ctx, full, other))
	}
	return errors.Join(errs...)
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
	// Sequential has none: the next part waits for the first's buffer.
	if !u.s.opts.Sequential {
		for range u.s.opts.Concurrency {
			u.free <- nil
		}
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
		body := &fencedReader{r: bytes.NewReader(p.data)}
		defer body.fence()
		info, err := u.s.core.PutObjectPart(context.WithoutCancel(ctx), u.s.bucket, u.full, u.id, p.number,
			body, int64(len(p.data)), partOptions)
		if err != nil {
			return u.s.fail(fmt.Sprintf("upload part %d of", p.number), u.full, err)
		}
		u.mu.Lock()
		u.parts = append(u.parts, minio.CompletePart{PartNumber: p.number, ETag: info.ETag})
		u.mu.Unlock()
		return nil
	})
}

// errFenced is what a part's body gives once its request has ended.
var errFenced = errors.New("part body read after its request ended")

// fencedReader is a part's body for one request. net/http may go on
// reading a request's body after the round trip returned (the write loop
// of a failed attempt on a broken connection), while the part's buffer
// goes back to feed for the next part once the part is stored; so every
// read after fence fails instead of touching the buffer. Seek keeps the
// body retryable by the client library.
type fencedReader struct {
	mu     sync.Mutex
	r      *bytes.Reader
	fenced bool
}

func (f *fencedReader) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fenced {
		return 0, errFenced
	}
	return f.r.Read(p)
}

func (f *fencedReader) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fenced {
		return 0, errFenced
	}
	return f.r.Seek(offset, whence)
}

// fence ends the reads; it waits for a read under way.
func (f *fencedReader) fence() {
	f.mu.Lock()
	f.fenced = true
	f.mu.Unlock()
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

// abortTimeout bounds the abort of a failed upload, retries included.
const abortTimeout = 2 * time.Minute

// abortChecks bounds how many times abort aborts an upload that the
// server still lists after an abort.
const abortChecks = 3

// abort drops the parts of a failed upload, even when the caller's context
// is already done, retrying transient failures, and checks that the server
// lists the upload no more: a part request the client gave up on (its idle
// timeout) may be stored after the abort and bring the upload back on
// some servers (versitygw). An error means parts are left behind.
func (u *upload) abort(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	key := strings.TrimPrefix(u.full, u.s.prefix)
	for range abortChecks {
		if err := u.s.abort(ctx, u.full, u.id); err != nil {
			return err
		}
		listed, err := u.s.listed(ctx, key, u.id)
		if err != nil || !listed {
			// A store that refuses to list uploads cannot be checked;
			// the abort itself succeeded.
			return nil
		}
	}
	return u.s.fail("abort upload of", u.full, fmt.Errorf("upload %s is still listed after %d aborts", u.id, abortChecks))
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
