package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

func randomData(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(7, 9))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestTransientFaultsAreRetried(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	for mode, opts := range uploadModes() {
		t.Run(mode, func(t *testing.T) {
			cfg := newBucket(t, srv)
			// The first connections: a 503, a reset in the middle of a
			// part, a stall; then a second round, so that single puts,
			// multipart parts and reads all meet faults.
			p := startFaultProxy(t, hostOf(srv.Endpoint), 1<<20, unavailable, reset, stall, pass, unavailable, reset)
			cfg.Endpoint = p.endpoint("http")
			// Short enough to end the stall quickly. The stall ends either
			// on the connection's idle deadline or on the transport's
			// response-header timeout, whichever fires first; both must be
			// retried (CI failed here when the header timeout, which
			// claims to be a context deadline, was taken as permanent:
			// see store.TestResponseHeaderTimeoutIsTransient).
			opts.IdleTimeout = 5 * time.Second
			opts.Backoff.Attempts = 10 // room for a slow machine on top of the planned faults
			var retries int
			opts.Backoff.Notify = func(int, error, time.Duration) { retries++ }
			s := newStore(t, cfg, opts)
			data := randomData(17 << 20) // four parts of 5 MiB
			if _, err := s.Put(context.Background(), "db/big", io.MultiReader(bytes.NewReader(data)), store.PutOptions{}); err != nil {
				t.Fatalf("Put through faults: %v", err)
			}
			for _, f := range []fault{unavailable, reset, stall} {
				if p.count(f) == 0 {
					t.Errorf("fault %d never fired", f)
				}
			}
			if retries < 3 {
				t.Errorf("retries = %d, want at least 3", retries)
			}
			assertStored(t, s, "db/big", data)
		})
	}
}

func TestGetResumesAfterReset(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg := newBucket(t, srv)
	data := randomData(3 << 20)
	direct := newStore(t, cfg, testOptions)
	if _, err := direct.Put(context.Background(), "obj", bytes.NewReader(data), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// The first two connections are cut after 1 MiB of the answer, in the
	// middle of the body: the reader must resume twice at the offset reached.
	p := startFaultProxy(t, hostOf(srv.Endpoint), 1<<20, cut, cut)
	cfg.Endpoint = p.endpoint("http")
	s := newStore(t, cfg, testOptions)
	r, err := s.Get(context.Background(), "obj")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read %d of %d bytes, err %v", len(got), len(data), err)
	}
	if p.count(cut) != 2 {
		t.Errorf("cut connections = %d, want 2", p.count(cut))
	}
}

func TestPermanentFaults(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	good := newBucket(t, srv)
	tests := []struct {
		name string
		edit func(c *dbbackup.StorageConfig)
		hint string
	}{
		{"wrong secret", func(c *dbbackup.StorageConfig) { c.SecretKey = "sk-canary-WRONG-" + c.SecretKey[:4] }, "check access-key, secret-key"},
		{"unknown access key", func(c *dbbackup.StorageConfig) { c.AccessKey = "AKCANARYWRONG" }, "check access-key, secret-key"},
		{"missing bucket", func(c *dbbackup.StorageConfig) { c.Bucket = "no-such-bucket" }, "check that the bucket exists"},
		{"https to http", func(c *dbbackup.StorageConfig) { c.Endpoint = strings.Replace(c.Endpoint, "http:", "https:", 1) }, "speaks http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			opts := testOptions
			retries := 0
			opts.Backoff.Notify = func(int, error, time.Duration) { retries++ }
			s := newStore(t, cfg, opts)
			_, err := s.Put(context.Background(), "k", strings.NewReader("v"), store.PutOptions{})
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if retries != 0 {
				t.Errorf("permanent failure was retried %d times", retries)
			}
			msg := err.Error()
			for _, want := range []string{`bucket "` + cfg.Bucket + `"`, hostOf(cfg.Endpoint), tt.hint} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			var se *store.Error
			if !errors.As(err, &se) || !se.Permanent {
				t.Errorf("error %v is not a permanent *store.Error", err)
			}
			assertNoSecret(t, msg, cfg.AccessKey, cfg.SecretKey, good.AccessKey, good.SecretKey)
		})
	}
}

func assertNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("output shows a credential: %q", text)
		}
	}
}
