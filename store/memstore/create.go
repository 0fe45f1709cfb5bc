package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/store"
)

var _ store.Creator = (*Store)(nil)

// Create reads r to its end and stores its bytes under key unless key
// already holds an object, atomically: of concurrent Creates of one key,
// exactly one succeeds; the others return an error wrapping
// store.ErrExists.
func (s *Store) Create(ctx context.Context, key string, r io.Reader, _ store.PutOptions) (store.Object, error) {
	if err := check("create", key); err != nil {
		return store.Object{}, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return store.Object{}, &store.Error{Op: "create", Key: key, Err: fmt.Errorf("read source: %w", err), Permanent: true}
	}
	if err := ctx.Err(); err != nil {
		return store.Object{}, &store.Error{Op: "create", Key: key, Err: err}
	}
	sum := md5.Sum(data)
	info := store.Object{Key: key, Size: int64(len(data)), ModTime: s.now(), ETag: hex.EncodeToString(sum[:])}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		return store.Object{}, &store.Error{Op: "create", Key: key, Err: store.ErrExists, Permanent: true}
	}
	s.objects[key] = object{data: data, info: info}
	return info, nil
}
