package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/store"
)

var _ store.Creator = (*Store)(nil)

// Create stores r under key only if key holds no object, with one PUT
// carrying "If-None-Match: *": the server refuses it (412 Precondition
// Failed) when the key exists, atomically, and Create returns an error
// wrapping store.ErrExists, which is not retried. A server that ignores the
// header replaces the object instead; the conformance suite checks for it.
//
// The object must fit in one part (Options.PartSize): Create is for the
// small markers that claim a name, not for data. A retry after an answer
// lost on the way back may find the object its own first try stored and
// report store.ErrExists: a false refusal, never a second winner.
func (s *Store) Create(ctx context.Context, key string, r io.Reader, opts store.PutOptions) (store.Object, error) {
	if err := store.CheckKey(key); err != nil {
		return store.Object{}, &store.Error{Op: "create", Bucket: s.bucket, Key: key, Err: err, Permanent: true}
	}
	full := s.full(key)
	if err := ctx.Err(); err != nil {
		return store.Object{}, s.fail("create", full, err)
	}
	limit := partSize(s.opts.PartSize, 1)
	data, err := readFirst(r, limit)
	if err != nil {
		return store.Object{}, s.fail("create", full, readError(ctx, err))
	}
	if len(data) == limit {
		if n, _ := io.ReadFull(r, make([]byte, 1)); n > 0 {
			return store.Object{}, &store.Error{Op: "create", Bucket: s.bucket, Endpoint: s.endpoint, Key: full,
				Err: fmt.Errorf("object exceeds the %d bytes a conditional create sends in one request", limit), Permanent: true}
		}
	}
	popts := s.put
	popts.ContentType = opts.ContentType
	popts.SetMatchETagExcept("*")
	var info minio.UploadInfo
	err = s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		var err error
		info, err = s.core.PutObject(ctx, s.bucket, full, bytes.NewReader(data), int64(len(data)), "", "", popts)
		return s.createFail(full, err)
	})
	if err != nil {
		return store.Object{}, err
	}
	return store.Object{Key: key, Size: int64(len(data)), ETag: info.ETag, ModTime: info.LastModified}, nil
}

// createFail is fail for a conditional PUT: the server's refusal because
// the key exists (412 PreconditionFailed) becomes store.ErrExists,
// permanent; a conflict with another conditional write in flight (409
// ConditionalRequestConflict) is retried, as the server asks.
func (s *Store) createFail(full string, err error) error {
	if err == nil {
		return nil
	}
	resp := errResponse(err)
	switch {
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed":
		return &store.Error{Op: "create", Bucket: s.bucket, Endpoint: s.endpoint, Key: full,
			Err: fmt.Errorf("%w (%s)", store.ErrExists, resp.Code), Permanent: true}
	case resp.StatusCode == http.StatusConflict || resp.Code == "ConditionalRequestConflict":
		ferr := s.fail("create", full, err)
		var e *store.Error
		if errors.As(ferr, &e) {
			e.Permanent = false
		}
		return ferr
	}
	return s.fail("create", full, err)
}
