package artefact_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

var bucketSeq atomic.Int64

// newS3 creates a fresh bucket on srv and returns two stores on it: one
// under path (where backups are written) and one at the bucket's root
// (how the CLI and the manager open an artefact-path).
func newS3(t *testing.T, srv *testenv.S3Server, path string) (under, root store.Store) {
	t.Helper()
	name := fmt.Sprintf("a%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	srv.CreateBucket(t, name)
	return openS3(t, srv.StorageConfig(name), path), openS3(t, srv.StorageConfig(name), "")
}

func openS3(t *testing.T, cfg dbbackup.StorageConfig, path string) store.Store {
	t.Helper()
	cfg.Path = path
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// dump is a producer writing n lines, which counts its calls.
func dump(calls *atomic.Int32, n int) artefact.Producer {
	return func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		calls.Add(1)
		fmt.Fprintln(log, "pg_dump: dumping")
		if _, err := io.WriteString(w, strings.Repeat("COPY t FROM stdin;\n", n)); err != nil {
			return engine.Result{}, err
		}
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}}, nil
	}
}

func backupOpts(id string) artefact.BackupOptions {
	return artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: id, Compression: true}
}

// objects maps the keys under prefix (recursively) to their ETags.
func objects(t *testing.T, st store.Store, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj, err := range st.List(context.Background(), prefix, store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Key] = obj.ETag
	}
	return out
}
