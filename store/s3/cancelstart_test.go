package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// holdProxy is a TCP proxy on 127.0.0.1 that holds the answer on its first
// connection: once the server has answered (it acted on the request), it
// closes answered and forwards the answer only after release is closed.
type holdProxy struct {
	addr              string
	answered, release chan struct{}
}

func startHoldProxy(t *testing.T, target string) *holdProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{addr: l.Addr().String(), answered: make(chan struct{}), release: make(chan struct{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for first := true; ; first = false {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				c.Close()
				return
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			hold := first
			wg.Go(func() { _, _ = io.Copy(up, c); up.Close() })
			wg.Go(func() {
				if hold {
					buf := make([]byte, 1)
					if n, _ := up.Read(buf); n == 1 {
						close(p.answered)
						select {
						case <-p.release:
						case <-time.After(10 * time.Second):
						}
						_, _ = c.Write(buf)
					}
				}
				_, _ = io.Copy(c, up)
				c.Close()
			})
		}
	})
	return p
}

// TestCancelDuringStartLeavesNothing cancels the caller's context while
// the request that starts the multipart upload waits for its answer,
// after the server started the upload: the Put fails as cancelled and the
// upload it started is aborted all the same.
func TestCancelDuringStartLeavesNothing(t *testing.T) {
	for _, start := range []func(testenv.T) *testenv.S3Server{testenv.StartVersityGW, testenv.StartMinIO} {
		srv := start(t)
		t.Run(srv.Name, func(t *testing.T) {
			cfg := newBucket(t, srv)
			p := startHoldProxy(t, hostOf(srv.Endpoint))
			cfg.Endpoint = "http://" + p.addr
			s := newStore(t, cfg, testOptions)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-p.answered:
					cancel()
					time.Sleep(200 * time.Millisecond)
				case <-time.After(10 * time.Second):
				}
				close(p.release)
			}()
			_, err := s.Put(ctx, "db/big", bytes.NewReader(randomData(11<<20)), store.PutOptions{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put error = %v, want context.Canceled", err)
			}
			select {
			case <-p.answered:
			default:
				t.Fatal("the start of the upload was never answered")
			}
			if got := srv.Uploads(t, cfg.Bucket); len(got) != 0 {
				t.Errorf("multipart uploads left behind: %q", got)
			}
		})
	}
}
