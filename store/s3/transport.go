package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// dialContext is replaced by tests that reach host-style bucket names
// (bucket.localhost) on 127.0.0.1.
var dialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext

// newTransport returns an HTTP transport that trusts the given CA chain
// besides the system's roots and drops connections idle for idle.
func newTransport(caChain []string, idle time.Duration) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	tr.IdleConnTimeout = idle / 2
	tr.ResponseHeaderTimeout = idle
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idle}, nil
	}
	if len(caChain) > 0 {
		pool, err := caPool(caChain)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr, nil
}

// caPool returns the system roots plus the certificates of chain, each
// entry base64-encoded PEM (or plain PEM, as some writers send it).
func caPool(chain []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for i, entry := range chain {
		pem := []byte(entry)
		if !strings.Contains(entry, "-----BEGIN") {
			pem, err = base64.StdEncoding.DecodeString(strings.TrimSpace(entry))
			if err != nil {
				return nil, fmt.Errorf("tls-ca-chain entry %d is neither PEM nor base64: %w", i+1, err)
			}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca-chain entry %d holds no PEM certificate", i+1)
		}
	}
	return pool, nil
}

// idleConn fails a Read or Write when no byte has moved either way for
// idle, turning a stalled peer into an error the retry policy handles.
//
// net/http keeps a Read pending on every connection, from its dial on, to
// catch the next answer; a plain read deadline would expire in the middle
// of a long upload (a large part over a slow link) although the upload is
// making progress. So a Read that times out while the connection wrote
// something within idle waits again instead of failing.
type idleConn struct {
	net.Conn
	idle      time.Duration
	lastWrite atomic.Int64 // unix nanoseconds of the last write's progress
}

func (c *idleConn) Read(p []byte) (int, error) {
	deadline := time.Now().Add(c.idle)
	for {
		if err := c.Conn.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		n, err := c.Conn.Read(p)
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			if next := time.Unix(0, c.lastWrite.Load()).Add(c.idle); next.After(time.Now()) {
				deadline = next
				continue
			}
		}
		return n, err
	}
}

func (c *idleConn) Write(p []byte) (int, error) {
	var done int
	for done < len(p) {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
			return done, err
		}
		// Writes go in slices so that a large buffer on a slow link shows
		// its progress to the pending Read.
		end := min(len(p), done+writeSlice)
		n, err := c.Conn.Write(p[done:end])
		done += n
		if n > 0 {
			c.lastWrite.Store(time.Now().UnixNano())
		}
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// writeSlice is the most idleConn writes at once.
const writeSlice = 32 << 10
