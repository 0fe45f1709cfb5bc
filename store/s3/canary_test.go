package s3_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// TestNoCredentialInOutput drives every kind of failure with canary
// credentials and greps all the text the store produced for them.
func TestNoCredentialInOutput(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	good := newBucket(t, srv)
	canaryAK, canarySK := "AKCANARY0123456789", "sk-canary-abcdefghijklmnopqrstuvwxyz"
	refused := freeAddr(t)
	configs := map[string]func(*dbbackup.StorageConfig){
		"wrong keys":     func(c *dbbackup.StorageConfig) { c.AccessKey, c.SecretKey = canaryAK, canarySK },
		"wrong secret":   func(c *dbbackup.StorageConfig) { c.SecretKey = canarySK },
		"missing bucket": func(c *dbbackup.StorageConfig) { c.Bucket = "nope" },
		"refused":        func(c *dbbackup.StorageConfig) { c.Endpoint = "http://" + refused },
		"tls to http":    func(c *dbbackup.StorageConfig) { c.Endpoint = strings.Replace(c.Endpoint, "http", "https", 1) },
	}
	var out strings.Builder
	for name, edit := range configs {
		cfg := good
		edit(&cfg)
		opts := testOptions
		opts.Backoff.Attempts = 2
		opts.Backoff.Notify = func(n int, err error, _ time.Duration) { fmt.Fprintf(&out, "retry %d: %v\n", n, err) }
		s := newStore(t, cfg, opts)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		fmt.Fprintf(&out, "%s: %v %+v %#v\n", name, s, s, s)
		_, err := s.Put(ctx, "k", bytesReader("v"), store.PutOptions{})
		fmt.Fprintf(&out, "put: %v %+v\n", err, err)
		_, err = s.Put(ctx, "big", bytesReader(strings.Repeat("x", 6<<20)), store.PutOptions{})
		fmt.Fprintf(&out, "multipart: %v\n", err)
		if r, err := s.Get(ctx, "k"); err != nil {
			fmt.Fprintf(&out, "get: %v\n", err)
		} else {
			_, err = io.ReadAll(r)
			r.Close()
			fmt.Fprintf(&out, "read: %v\n", err)
		}
		_, err = s.Stat(ctx, "k")
		fmt.Fprintf(&out, "stat: %v\n", err)
		for _, err := range s.List(ctx, "", store.ListOptions{}) {
			fmt.Fprintf(&out, "list: %v\n", err)
		}
		fmt.Fprintf(&out, "delete: %v\n", s.Delete(ctx, "k"))
		fmt.Fprintf(&out, "delete prefix: %v\n", store.DeletePrefix(ctx, s, "a/"))
		cancel()
	}
	text := out.String()
	t.Log(text)
	if !strings.Contains(text, "check access-key") || !strings.Contains(text, refused) {
		t.Errorf("the failures did not happen as planned:\n%s", text)
	}
	for _, secret := range []string{canaryAK, canarySK, good.AccessKey, good.SecretKey, "canary", "CANARY"} {
		if strings.Contains(text, secret) {
			t.Errorf("output shows credential %q:\n%s", secret, text)
		}
	}
}

// freeAddr returns an address on 127.0.0.1 where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
