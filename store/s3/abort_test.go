package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
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

// testFailedPutLeavesNothing fails Puts on every path after their
// multipart upload started and checks, by the server's own listing, that
// no upload or object is left behind.
func testFailedPutLeavesNothing(t *testing.T, srv *testenv.S3Server) {
	for mode, opts := range uploadModes() {
		t.Run(mode, func(t *testing.T) { testFailedPutLeavesNothingWith(t, srv, opts) })
	}
}

func testFailedPutLeavesNothingWith(t *testing.T, srv *testenv.S3Server, opts s3.Options) {
	cfg := newBucket(t, srv)
	cfg.Path = "site"
	s := newStore(t, cfg, opts)
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
		{"source fails after several parts", func() error {
			r := &failingReader{n: 23<<20 + 3, fail: func() error { return errSource }}
			_, err := s.Put(context.Background(), "src-late", r, store.PutOptions{})
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
		{"context cancelled while parts upload", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The source never fails: the caller gives up after three
			// parts were read, while they are on their way.
			r := &cancellingReader{r: pattern{}, after: 15 << 20, cancel: cancel}
			_, err := s.Put(ctx, "ctx-parts", r, store.PutOptions{})
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, tt.want) || !store.IsPermanent(err) {
				t.Fatalf("Put error = %v, want a permanent error wrapping %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "left behind") {
				t.Errorf("Put error = %v, want no parts left behind", err)
			}
		})
	}
	if got := srv.Uploads(t, cfg.Bucket); len(got) != 0 {
		t.Errorf("multipart uploads left behind: %q", got)
	}
	for obj, err := range s.List(context.Background(), "", store.ListOptions{Recursive: true}) {
		t.Errorf("object %q (err %v) left behind", obj.Key, err)
	}
}

func TestFailedPutLeavesNothingVersityGW(t *testing.T) {
	testFailedPutLeavesNothing(t, testenv.StartVersityGW(t))
}

func TestFailedPutLeavesNothingMinIO(t *testing.T) {
	testFailedPutLeavesNothing(t, testenv.StartMinIO(t))
}

// cancellingReader reads r and calls cancel once after bytes were read.
type cancellingReader struct {
	r      io.Reader
	after  int
	cancel func()
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.after -= n; c.after <= 0 {
		c.cancel()
	}
	return n, err
}

// TestLostStartLeavesNothing loses the answer to the request that starts a
// multipart upload after the server started it: the retry starts a second
// upload, and the first must not stay behind.
func TestLostStartLeavesNothing(t *testing.T) {
	for _, start := range []func(testenv.T) *testenv.S3Server{testenv.StartVersityGW, testenv.StartMinIO} {
		srv := start(t)
		t.Run(srv.Name, func(t *testing.T) {
			cfg := newBucket(t, srv)
			// The first connection carries the start of the upload; its
			// answer is cut after its status line began.
			p := startFaultProxy(t, hostOf(srv.Endpoint), 10, cut)
			cfg.Endpoint = p.endpoint("http")
			s := newStore(t, cfg, testOptions)
			data := randomData(11 << 20)
			if _, err := s.Put(context.Background(), "db/big", bytes.NewReader(data), store.PutOptions{}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if p.count(cut) != 1 {
				t.Fatalf("the answer was cut %d times, want 1", p.count(cut))
			}
			if got := srv.Uploads(t, cfg.Bucket); len(got) != 0 {
				t.Errorf("multipart uploads left behind: %q", got)
			}
		})
	}
}

// TestFailedPartLeavesNothing resets the connection of a part request
// with retries off: the Put fails and aborts its upload.
func TestFailedPartLeavesNothing(t *testing.T) {
	for _, start := range []func(testenv.T) *testenv.S3Server{testenv.StartVersityGW, testenv.StartMinIO} {
		srv := start(t)
		t.Run(srv.Name, func(t *testing.T) {
			cfg := newBucket(t, srv)
			// The first connection starts the upload; of the two parts
			// sent at once, one needs a second connection, which is reset.
			p := startFaultProxy(t, hostOf(srv.Endpoint), 1<<20, pass, reset, reset)
			cfg.Endpoint = p.endpoint("http")
			opts := testOptions
			opts.Backoff.Attempts = 1
			s := newStore(t, cfg, opts)
			_, err := s.Put(context.Background(), "db/big", bytes.NewReader(randomData(12<<20)), store.PutOptions{})
			if err == nil || !strings.Contains(err.Error(), "upload part") || strings.Contains(err.Error(), "left behind") {
				t.Fatalf("Put error = %v, want a failed part and no parts left behind", err)
			}
			if p.count(reset) == 0 {
				t.Fatal("no connection was reset")
			}
			if got := srv.Uploads(t, cfg.Bucket); len(got) != 0 {
				t.Errorf("multipart uploads left behind: %q", got)
			}
		})
	}
}
