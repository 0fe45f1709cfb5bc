package s3

import (
	"context"
	"errors"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/store"
)

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := store.CheckKey(key); err != nil {
		return &store.Error{Op: "delete", Bucket: s.bucket, Key: key, Err: err, Permanent: true}
	}
	full := s.full(key)
	return s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		return s.fail("delete", full, s.core.RemoveObject(ctx, s.bucket, full, minio.RemoveObjectOptions{}))
	})
}

// DeletePrefix removes every object under prefix with batch delete
// requests of up to 1,000 keys. Called through store.DeletePrefix, which
// refuses an empty prefix.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	full := s.full(prefix)
	return s.opts.Backoff.Do(ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		objects := s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: full, Recursive: true, MaxKeys: listPage})
		var listErr error
		keys := make(chan minio.ObjectInfo)
		go func() {
			defer close(keys)
			for o := range objects {
				if o.Err != nil {
					listErr = o.Err
					return
				}
				keys <- o
			}
		}()
		var errs []error
		for e := range s.core.RemoveObjects(ctx, s.bucket, keys, minio.RemoveObjectsOptions{}) {
			errs = append(errs, e.Err)
		}
		if listErr != nil {
			errs = append(errs, listErr)
		}
		return s.fail("delete prefix", full, errors.Join(errs...))
	})
}
