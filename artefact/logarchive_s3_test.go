package artefact

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestLogFilesOnVersityGW archives, lists, replaces and reads back log
// files on a real S3 server, encrypted and not, one of them larger than a
// multipart upload's part.
func TestLogFilesOnVersityGW(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "logs")
	st, err := s3.New(srv.StorageConfig("logs"), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := bytes.Repeat([]byte{0x5a}, KeySize)
	big := testData(9<<20 + 3)
	for _, k := range [][]byte{nil, key} {
		scope := "plain"
		if k != nil {
			scope = "sealed"
		}
		o := LogFileOptions{Scope: scope, Stream: LogStreamWAL, Name: "000000010000000000000005", Partial: true, Key: k}
		if _, err := PutLog(ctx, st, o, bytes.NewReader(big[:1000])); err != nil {
			t.Fatal(err)
		}
		o.Partial = false
		put, err := PutLog(ctx, st, o, bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		logs, err := ListLogs(ctx, st, scope, LogStreamWAL)
		if err != nil || len(logs) != 1 || logs[0].Partial || logs[0].Stored != put.Stored {
			t.Fatalf("list: %v %+v", err, logs)
		}
		var got bytes.Buffer
		f, err := GetLog(ctx, st, scope, LogStreamWAL, o.Name, false, k, &got)
		if err != nil || !bytes.Equal(got.Bytes(), big) || f.Digest != sha(big) {
			t.Fatalf("get: %v, %d bytes", err, got.Len())
		}
		if _, err := GetLog(ctx, st, scope, LogStreamWAL, o.Name, true, k, &got); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the partial after the complete upload: %v, want not found", err)
		}
	}
}
