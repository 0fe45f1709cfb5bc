package s3_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// recorder is an HTTP proxy in front of a server that keeps the Host and
// headers of every request, so tests see what the client really sent.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func startRecorder(t *testing.T, target string) (*recorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // the signature covers the host the client used
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.In.Clone(context.Background()))
		rec.mu.Unlock()
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// find returns the recorded requests with method m whose query has q.
func (r *recorder) find(m, q string) []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*http.Request
	for _, req := range r.reqs {
		if req.Method == m && strings.Contains(req.URL.RawQuery, q) {
			out = append(out, req)
		}
	}
	return out
}

func TestFieldsReachTheServer(t *testing.T) {
	tests := []struct {
		name  string
		start func(testenv.T) *testenv.S3Server
		edit  func(*dbbackup.StorageConfig)
		check func(t *testing.T, req *http.Request, cfg dbbackup.StorageConfig)
	}{
		{
			name:  "path style, v4 signature, region",
			start: testenv.StartVersityGW,
			edit:  func(c *dbbackup.StorageConfig) { c.URIStyle, c.APIVersion = "path", 4 },
			check: func(t *testing.T, req *http.Request, cfg dbbackup.StorageConfig) {
				if !strings.HasPrefix(req.URL.Path, "/"+cfg.Bucket+"/") {
					t.Errorf("path %q does not start with the bucket", req.URL.Path)
				}
				auth := req.Header.Get("Authorization")
				if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/"+cfg.Region+"/s3/") {
					t.Errorf("Authorization %q is not v4 for region %s", strings.SplitN(auth, ",", 2)[0], cfg.Region)
				}
			},
		},
		{
			name:  "storage class and attributes",
			start: testenv.StartMinIO,
			edit: func(c *dbbackup.StorageConfig) {
				c.StorageClass = "REDUCED_REDUNDANCY"
				c.Attributes = []string{"x-amz-meta-team=dba", "owner=ops", "Cache-Control=no-store"}
			},
			check: func(t *testing.T, req *http.Request, _ dbbackup.StorageConfig) {
				for h, want := range map[string]string{
					"X-Amz-Storage-Class": "REDUCED_REDUNDANCY", "X-Amz-Meta-Team": "dba",
					"X-Amz-Meta-Owner": "ops", "Cache-Control": "no-store",
				} {
					if got := req.Header.Get(h); got != want {
						t.Errorf("%s %s header %s = %q, want %q", req.Method, req.URL.RawQuery, h, got, want)
					}
				}
			},
		},
		{
			name:  "v2 signature",
			start: testenv.StartMinIO,
			edit:  func(c *dbbackup.StorageConfig) { c.APIVersion = 2 },
			check: func(t *testing.T, req *http.Request, _ dbbackup.StorageConfig) {
				if auth := req.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS ") {
					t.Errorf("Authorization %q is not v2", strings.SplitN(auth, ":", 2)[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start(t)
			cfg := newBucket(t, srv)
			tt.edit(&cfg)
			rec, endpoint := startRecorder(t, srv.Endpoint)
			cfg.Endpoint = endpoint
			s := newStore(t, cfg, testOptions)
			ctx := context.Background()
			small, large := []byte("small"), bytes.Repeat([]byte("L"), 6<<20) // single put, multipart
			for key, data := range map[string][]byte{"small": small, "large": large} {
				if _, err := s.Put(ctx, key, bytesReader(string(data)), store.PutOptions{}); err != nil {
					t.Fatalf("Put(%s): %v", key, err)
				}
				r, err := s.Get(ctx, key)
				if err != nil {
					t.Fatalf("Get(%s): %v", key, err)
				}
				r.Close()
			}
			writes := append(rec.find("PUT", ""), rec.find("POST", "uploads")...)
			if len(writes) < 3 {
				t.Fatalf("recorded %d writes, want a put, an upload start and parts", len(writes))
			}
			for _, req := range writes {
				if strings.Contains(req.URL.RawQuery, "partNumber") {
					continue // parts carry no object headers
				}
				tt.check(t, req, cfg)
			}
		})
	}
}

func TestHostStyle(t *testing.T) {
	srv := testenv.StartVersityGWWith(t, testenv.S3Options{VirtualHost: true})
	cfg := newBucket(t, srv)
	rec, endpoint := startRecorder(t, srv.Endpoint)
	_, port, _ := net.SplitHostPort(hostOf(endpoint))
	restore := s3.SetDial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	})
	t.Cleanup(restore)
	cfg.Endpoint, cfg.URIStyle = "http://localhost:"+port, "host"
	s := newStore(t, cfg, testOptions)
	if _, err := s.Put(context.Background(), "k", bytesReader("v"), store.PutOptions{}); err != nil {
		t.Fatalf("Put host style: %v", err)
	}
	puts := rec.find("PUT", "")
	if len(puts) != 1 {
		t.Fatalf("recorded %d puts, want 1", len(puts))
	}
	if got, want := puts[0].Host, cfg.Bucket+".localhost:"+port; got != want || puts[0].URL.Path != "/k" {
		t.Errorf("request went to host %q path %q, want host %q path /k", got, puts[0].URL.Path, want)
	}
}

func TestTLSCAChain(t *testing.T) {
	srv := testenv.StartVersityGWWith(t, testenv.S3Options{TLS: true})
	cfg := newBucket(t, srv)
	if !strings.HasPrefix(cfg.Endpoint, "https://") || len(cfg.TLSCAChain) != 1 {
		t.Fatalf("server config %s with %d CAs, want https and one", cfg.Endpoint, len(cfg.TLSCAChain))
	}
	ctx := context.Background()
	if _, err := newStore(t, cfg, testOptions).Put(ctx, "k", bytesReader("v"), store.PutOptions{}); err != nil {
		t.Fatalf("Put over TLS with the CA: %v", err)
	}
	other := testenv.NewTestCA(t)
	tests := []struct {
		name  string
		chain []string
	}{
		{"no CA", nil},
		{"another CA", []string{string(other.CAPEM)}},
	}
	for _, tt := range tests {
		c := cfg
		c.TLSCAChain = tt.chain
		_, err := newStore(t, c, testOptions).Put(ctx, "k", bytesReader("v"), store.PutOptions{})
		if err == nil || !store.IsPermanent(err) || !strings.Contains(err.Error(), "tls-ca-chain") {
			t.Errorf("%s: Put error = %v, want a permanent error naming tls-ca-chain", tt.name, err)
		}
	}
}

func TestWrongRegion(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg := newBucket(t, srv)
	cfg.Region = "eu-west-9"
	_, err := newStore(t, cfg, testOptions).Put(context.Background(), "k", bytesReader("v"), store.PutOptions{})
	if err == nil || !store.IsPermanent(err) || !strings.Contains(err.Error(), "region") {
		t.Errorf("Put with the wrong region: %v, want a permanent error hinting at the region", err)
	}
}
