package s3_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
	"github.com/dbbackup/dbbackup/store/storetest"
)

// testOptions keeps parts small and retries fast so tests stay quick.
var testOptions = s3.Options{
	PartSize:    5 << 20,
	Concurrency: 2,
	IdleTimeout: 3 * time.Second,
	Backoff:     store.Backoff{Attempts: 6, Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
}

var bucketSeq atomic.Int64

// newBucket creates a fresh bucket on srv and returns its configuration.
func newBucket(t testing.TB, srv *testenv.S3Server) dbbackup.StorageConfig {
	t.Helper()
	name := fmt.Sprintf("b%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	srv.CreateBucket(t, name)
	return srv.StorageConfig(name)
}

func newStore(t testing.TB, cfg dbbackup.StorageConfig, opts s3.Options) *s3.Store {
	t.Helper()
	s, err := s3.New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func runConformance(t *testing.T, srv *testenv.S3Server) {
	storetest.Run(t, func(t *testing.T) store.Store {
		cfg := newBucket(t, srv)
		cfg.Path = "/backups/site-a/" // every key lands under this prefix
		return newStore(t, cfg, testOptions)
	}, storetest.Options{LargeSize: 12<<20 + 17})
}

func TestConformanceVersityGW(t *testing.T) { runConformance(t, testenv.StartVersityGW(t)) }

func TestConformanceMinIO(t *testing.T) { runConformance(t, testenv.StartMinIO(t)) }

func TestPathIsKeyPrefix(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg := newBucket(t, srv)
	root := newStore(t, cfg, testOptions)
	cfg.Path = "team/db1"
	sub := newStore(t, cfg, testOptions)
	ctx := context.Background()
	if _, err := sub.Put(ctx, "job-1/manifest.json", bytesReader("m"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Stat(ctx, "team/db1/job-1/manifest.json"); err != nil {
		t.Errorf("object not under the configured path: %v", err)
	}
	var got []string
	for obj, err := range sub.List(ctx, "", store.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, obj.Key)
	}
	if want := "job-1/"; len(got) != 1 || got[0] != want {
		t.Errorf("List in path = %q, want [%q]", got, want)
	}
	// NewRoot ignores the path: its keys start at the bucket's root.
	atRoot, err := s3.NewRoot(cfg, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := atRoot.Stat(ctx, "team/db1/job-1/manifest.json"); err != nil {
		t.Errorf("NewRoot: object not at its key from the bucket's root: %v", err)
	}
	if _, err := atRoot.Stat(ctx, "job-1/manifest.json"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NewRoot: Stat of the key relative to the path = %v, want ErrNotFound", err)
	}
	if cfg.Path != "team/db1" {
		t.Errorf("NewRoot changed the caller's configuration: path %q", cfg.Path)
	}
}
