package s3_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// failingReader yields n bytes of pattern, then calls fail and returns its error.
type failingReader struct {
	n    int
	fail func() error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.fail()
	}
	p = p[:min(len(p), r.n)]
	n, _ := pattern{}.Read(p)
	r.n -= n
	return n, nil
}

func TestFailedPutLeavesNothing(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg := newBucket(t, srv)
	s := newStore(t, cfg, testOptions)
	errSource := errors.New("dump tool crashed")
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"source fails", func() error {
			r := &failingReader{n: 12 << 20, fail: func() error { return errSource }}
			_, err := s.Put(context.Background(), "src", r, store.PutOptions{})
			return err
		}, errSource},
		{"context cancelled", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The caller gives up while its source is blocked.
			r := &failingReader{n: 12 << 20, fail: func() error { cancel(); return io.ErrClosedPipe }}
			_, err := s.Put(ctx, "ctx", r, store.PutOptions{})
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, tt.want) || !store.IsPermanent(err) {
				t.Fatalf("Put error = %v, want a permanent error wrapping %v", err, tt.want)
			}
		})
	}
	c, err := minio.New(strings.TrimPrefix(srv.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: srv.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := minio.Core{Client: c}.ListMultipartUploads(context.Background(), cfg.Bucket, "", "", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != 0 {
		t.Errorf("%d multipart uploads left behind, want 0", len(res.Uploads))
	}
	for obj, err := range s.List(context.Background(), "", store.ListOptions{Recursive: true}) {
		t.Errorf("object %q (err %v) left behind", obj.Key, err)
	}
}
