package testenv

import (
	"bytes"
	"context"
	"time"

	"github.com/minio/minio-go/v7"
)

// StartUpload starts a multipart upload of key (the bucket's own key, with
// any path prefix) and uploads one 5 MiB part to it, then leaves it
// unfinished, as a process killed mid-upload does. It returns the upload's
// id.
func (s *S3Server) StartUpload(t T, bucket, key string) string {
	t.Helper()
	c, err := s.client()
	if err != nil {
		t.Fatalf("cannot make a client for %s: %v", s.Name, err)
	}
	core := minio.Core{Client: c}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := core.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("cannot start an upload of %s on %s: %v%s", key, s.Name, err, s.logTail())
	}
	part := bytes.Repeat([]byte{'p'}, 5<<20)
	if _, err := core.PutObjectPart(ctx, bucket, key, id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatalf("cannot upload a part of %s on %s: %v%s", key, s.Name, err, s.logTail())
	}
	return id
}

// Uploads returns the bucket's keys (with any path prefix) that have an
// unfinished multipart upload, one entry per upload, listed by the server
// itself rather than by the code under test.
func (s *S3Server) Uploads(t T, bucket string) []string {
	t.Helper()
	c, err := s.client()
	if err != nil {
		t.Fatalf("cannot make a client for %s: %v", s.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	var keyMarker, idMarker string
	for range 100 {
		res, err := minio.Core{Client: c}.ListMultipartUploads(ctx, bucket, "", keyMarker, idMarker, "", 1000)
		if err != nil {
			t.Fatalf("cannot list the uploads of bucket %s on %s: %v", bucket, s.Name, err)
		}
		for _, u := range res.Uploads {
			keys = append(keys, u.Key)
		}
		if !res.IsTruncated {
			return keys
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
	t.Fatalf("listing the uploads of bucket %s on %s did not end", bucket, s.Name)
	return nil
}
