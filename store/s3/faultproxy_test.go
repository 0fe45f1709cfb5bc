package s3_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault is what the proxy does to one connection.
type fault int

const (
	pass        fault = iota // forward both ways
	reset                    // forward resetAfter bytes of the request, then reset
	stall                    // read the request, answer nothing
	unavailable              // answer 503 to the first request, then close
	cut                      // forward resetAfter bytes of the answer, then reset
)

// faultProxy is a TCP proxy on 127.0.0.1 that applies plan[i] to its i-th
// connection and passes every later one through.
type faultProxy struct {
	addr       string
	target     string
	resetAfter int64

	mu    sync.Mutex
	plan  []fault
	seen  map[fault]int
	conns []net.Conn
}

func startFaultProxy(t *testing.T, target string, resetAfter int64, plan ...fault) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{addr: l.Addr().String(), target: target, plan: plan, seen: map[fault]int{}, resetAfter: resetAfter}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f := p.next(c)
			wg.Go(func() { p.serve(c, f) })
		}
	})
	return p
}

func (p *faultProxy) next(c net.Conn) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
	f := pass
	if len(p.plan) > 0 {
		f, p.plan = p.plan[0], p.plan[1:]
	}
	p.seen[f]++
	return f
}

// count returns how many connections got fault f.
func (p *faultProxy) count(f fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[f]
}

func (p *faultProxy) serve(c net.Conn, f fault) {
	defer c.Close()
	switch f {
	case stall:
		_, _ = io.Copy(io.Discard, c) // until the client gives up
		return
	case unavailable:
		_, _ = bufio.NewReader(c).ReadString('\n')
		_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	go func() {
		if f == cut {
			_, _ = io.CopyN(c, up, p.resetAfter)
			rst(c)
		} else {
			_, _ = io.Copy(c, up)
		}
		c.Close()
	}()
	if f == reset {
		_, _ = io.CopyN(up, c, p.resetAfter)
		rst(c)
		return
	}
	_, _ = io.Copy(up, c)
}

// proxyEndpoint returns endpoint with its host replaced by the proxy's.
func (p *faultProxy) endpoint(scheme string) string { return scheme + "://" + p.addr }

func hostOf(endpoint string) string {
	_, h, _ := strings.Cut(endpoint, "://")
	return h
}

// rst makes the coming Close of c send a TCP reset.
func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}
