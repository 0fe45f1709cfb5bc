package s3_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/store/s3"
)

// slowPeer accepts one connection on loopback, reads size bytes at rate
// bytes per tick with small socket buffers, then answers "ok" and closes.
func slowPeer(t *testing.T, size, rate int, tick time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
		buf := make([]byte, rate)
		for got := 0; got < size; {
			n, err := io.ReadFull(c, buf[:min(rate, size-got)])
			got += n
			if err != nil {
				return
			}
			time.Sleep(tick)
		}
		_, _ = io.WriteString(c, "ok")
	}()
	return l.Addr().String()
}

// An upload slower than the idle timeout but always moving must not fail:
// net/http's pending read on the connection sees no byte until the answer,
// long after idle, while the writes progress the whole time.
func TestIdleConnSlowUploadKeepsReading(t *testing.T) {
	const idle = 400 * time.Millisecond
	const size = 3 << 20
	addr := slowPeer(t, size, 64<<10, 25*time.Millisecond) // 48 ticks: 1.2 s, 3 idle periods
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.(*net.TCPConn).SetWriteBuffer(64 << 10)
	c := s3.NewIdleConn(raw, idle)
	defer c.Close()
	answer := make(chan []byte, 1)
	readErr := make(chan error, 1)
	go func() { // the transport's pending read
		b, err := io.ReadAll(c)
		answer <- b
		readErr <- err
	}()
	start := time.Now()
	if _, err := c.Write(bytes.Repeat([]byte{'x'}, size)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if took := time.Since(start); took < 2*idle {
		t.Fatalf("the upload took %v, not longer than the idle timeout %v: the test proves nothing", took, idle)
	}
	if b, err := <-answer, <-readErr; err != nil || string(b) != "ok" {
		t.Fatalf("read %q, %v; want the answer after a slow upload", b, err)
	}
}

// A peer that neither reads nor answers fails both ways after idle.
func TestIdleConnStalledPeerTimesOut(t *testing.T) {
	const idle = 100 * time.Millisecond
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hold := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			hold <- c
		}
	}()
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if c := <-hold; c != nil {
			c.Close()
		}
	}()
	_ = raw.(*net.TCPConn).SetWriteBuffer(16 << 10)
	c := s3.NewIdleConn(raw, idle)
	defer c.Close()
	start := time.Now()
	if _, err := c.Write(make([]byte, 64<<20)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("write to a stalled peer: %v, want a deadline error", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read from a stalled peer: %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 20*idle {
		t.Errorf("stall detected after %v, want about %v", took, 2*idle)
	}
}
