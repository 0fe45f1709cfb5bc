package s3_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// bytesReader returns a reader of s that hides its length, as a pipeline's
// output does.
func bytesReader(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

// assertStored fails t unless key in s holds exactly data.
func assertStored(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %s: %d bytes, equal %v, err %v", key, len(got), bytes.Equal(got, data), err)
	}
}

// uploadModes are the two ways Put holds parts: the tests' default
// (Concurrency parts in flight and one filling) and an archiver's
// (Sequential: one part, read once the one before is stored); tests of
// faults and failures run under both.
func uploadModes() map[string]s3.Options {
	seq := s3.ArchiverOptions()
	seq.IdleTimeout, seq.Backoff = testOptions.IdleTimeout, testOptions.Backoff
	return map[string]s3.Options{"concurrent": testOptions, "sequential": seq}
}
