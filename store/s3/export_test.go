package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

func fmtS(format string, v any) string { return fmt.Sprintf(format, v) }

// SetDial replaces the dialer for the test's duration, for host-style
// names that DNS cannot resolve.
func SetDial(d func(ctx context.Context, network, addr string) (net.Conn, error)) (restore func()) {
	old := dialContext
	dialContext = d
	return func() { dialContext = old }
}

// NewIdleConn wraps c as the transport does.
func NewIdleConn(c net.Conn, idle time.Duration) net.Conn { return &idleConn{Conn: c, idle: idle} }

// NewFencedReader returns a part body over data and its fence.
func NewFencedReader(data []byte) (io.ReadSeeker, func()) {
	f := &fencedReader{r: bytes.NewReader(data)}
	return f, f.fence
}
