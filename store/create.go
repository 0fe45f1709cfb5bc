package store

import (
	"context"
	"errors"
	"io"
)

// ErrExists is wrapped by the error of a conditional create whose key
// already holds an object. It is permanent: retrying cannot succeed.
var ErrExists = errors.New("object already exists")

// Creator is implemented by backends that store an object only if its key
// is free, atomically: of several writers creating one key at once, exactly
// one succeeds. Create uses it when present.
type Creator interface {
	// Create streams r into the object key unless key already holds an
	// object; then it stores nothing and returns an error wrapping
	// ErrExists.
	Create(ctx context.Context, key string, r io.Reader, opts PutOptions) (Object, error)
}

// Create stores r under key only if key holds no object yet, and returns
// an error wrapping ErrExists otherwise. It is atomic on backends that are
// Creators. On others it falls back to Stat then Put, which is racy: two
// writers that both Stat before either Puts both succeed, the second
// replacing the first's object.
func Create(ctx context.Context, s Store, key string, r io.Reader, opts PutOptions) (Object, error) {
	if c, ok := s.(Creator); ok {
		return c.Create(ctx, key, r, opts)
	}
	if _, err := s.Stat(ctx, key); err == nil {
		return Object{}, &Error{Op: "create", Key: key, Err: ErrExists, Permanent: true}
	} else if !errors.Is(err, ErrNotFound) {
		return Object{}, err
	}
	return s.Put(ctx, key, r, opts)
}
