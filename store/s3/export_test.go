package s3

import (
	"context"
	"fmt"
	"net"
)

func fmtS(format string, v any) string { return fmt.Sprintf(format, v) }

// SetDial replaces the dialer for the test's duration, for host-style
// names that DNS cannot resolve.
func SetDial(d func(ctx context.Context, network, addr string) (net.Conn, error)) (restore func()) {
	old := dialContext
	dialContext = d
	return func() { dialContext = old }
}
