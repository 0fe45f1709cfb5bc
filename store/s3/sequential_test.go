package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// partCounter is a reverse proxy on 127.0.0.1 in front of an S3 server
// that counts the answered part uploads.
type partCounter struct {
	answered atomic.Int64
	srv      *httptest.Server
}

func startPartCounter(t *testing.T, endpoint string) *partCounter {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	pc := &partCounter{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the host the request was signed for
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.Method == http.MethodPut && resp.Request.URL.Query().Get("partNumber") != "" && resp.StatusCode == http.StatusOK {
				pc.answered.Add(1)
			}
			return nil
		},
	}
	pc.srv = httptest.NewServer(rp)
	t.Cleanup(pc.srv.Close)
	return pc
}

// aheadReader is the upload's source (read by Put's own goroutine); it
// records by how many parts its reading ran ahead of the server's answers.
type aheadReader struct {
	r        io.Reader
	part     int64
	off      int64
	answered func() int64
	ahead    int64 // the largest (parts begun - 1) - answered seen
}

func (a *aheadReader) Read(p []byte) (int, error) {
	begun := a.off/a.part + 1 // the part the next byte belongs to
	a.ahead = max(a.ahead, (begun-1)-a.answered())
	n, err := a.r.Read(p)
	a.off += int64(n)
	return n, err
}

// TestArchiverUploadsHoldOnePart: under ArchiverOptions (Sequential) the
// next part is read only once the server answered the one before, so an
// upload holds one part in memory; with Concurrency 1 alone the next part
// may be read while the one before is in flight (two in memory, never
// more).
func TestArchiverUploadsHoldOnePart(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg := newBucket(t, srv)
	pc := startPartCounter(t, srv.Endpoint)
	cfg.Endpoint = pc.srv.URL
	data := randomData(17 << 20) // four parts of 5 MiB
	for _, tc := range []struct {
		name     string
		opts     s3.Options
		maxAhead int64
	}{
		{"sequential", s3.ArchiverOptions(), 0},
		{"concurrency 1", s3.Options{PartSize: 5 << 20, Concurrency: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Backoff = testOptions.Backoff
			s := newStore(t, cfg, tc.opts)
			pc.answered.Store(0)
			src := &aheadReader{r: bytes.NewReader(data), part: 5 << 20, answered: pc.answered.Load}
			ctx := context.Background()
			key := "seq/" + tc.name
			if _, err := s.Put(ctx, key, src, store.PutOptions{}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := pc.answered.Load(); got != 4 {
				t.Fatalf("answered part uploads = %d, want 4", got)
			}
			if src.ahead > tc.maxAhead {
				t.Errorf("parts read ahead of the server's answers = %d, want at most %d", src.ahead, tc.maxAhead)
			}
			assertStored(t, s, key, data)
		})
	}
}

// TestPartBodyFenced: once a part's request has ended, its body neither
// reads nor seeks, so a late read by a failed attempt's write loop cannot
// touch a buffer that holds the next part (the race detector caught one in
// TestTransientFaultsAreRetried/sequential before the fence).
func TestPartBodyFenced(t *testing.T) {
	data := []byte("part one")
	body, fence := s3.NewFencedReader(data)
	buf := make([]byte, 4)
	if n, err := body.Read(buf); n != 4 || err != nil || string(buf) != "part" {
		t.Fatalf("read before the fence: %d %v %q", n, err, buf)
	}
	if off, err := body.Seek(0, io.SeekStart); off != 0 || err != nil {
		t.Fatalf("seek before the fence: %d %v", off, err)
	}
	fence()
	copy(data, "PART TWO") // the buffer reused for the next part
	if n, err := body.Read(buf); n != 0 || err == nil {
		t.Errorf("read after the fence: %d bytes, err %v; want none and an error", n, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err == nil {
		t.Error("seek after the fence succeeded")
	}
}
