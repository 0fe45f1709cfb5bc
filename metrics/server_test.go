package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// scrape reads the exposition of st through the HTTP handler.
func scrape(t *testing.T, st *State) string {
	t.Helper()
	srv := startServer(t, st)
	resp, err := http.Get(srv + Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", Path, resp.Status, b)
	}
	return string(b)
}

// startServer serves st on a free loopback port until the test ends and
// checks that the server then stops.
func startServer(t *testing.T, st *State) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, st) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeListener after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ServeListener did not return within 10 s of the cancel")
		}
	})
	return "http://" + ln.Addr().String()
}

func TestParseAddress(t *testing.T) {
	good := map[string]string{
		"":                   DefaultAddress,
		"127.0.0.1:9569":     "127.0.0.1:9569",
		"localhost:80":       "localhost:80",
		":9569":              ":9569",
		"0.0.0.0:9569":       "0.0.0.0:9569",
		"[::1]:9569":         "[::1]:9569",
		"10.1.2.3:65535":     "10.1.2.3:65535",
		"[::ffff:1.2.3.4]:1": "1.2.3.4:1",
		"[0:0::1]:9569":      "[::1]:9569",
		"192.168.1.1:443":    "192.168.1.1:443",
	}
	for in, want := range good {
		got, err := ParseAddress(in)
		if err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"9569", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:09569", "127.0.0.1:+80", "127.0.0.1:http", "example.com:9569", "db.internal:9569",
		"224.0.0.1:9569", "1.2.3:9569", "::1:9569", "127.0.0.1:9569/metrics", "http://127.0.0.1:9569",
		"127.0.0.1 :9569", strings.Repeat("1", 70) + ":1",
	}
	for _, in := range bad {
		if got, err := ParseAddress(in); !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("ParseAddress(%q) = %q, %v; want ErrInvalidAddress", in, got, err)
		}
	}
}

// FuzzParseAddress: whatever it is given, ParseAddress either refuses it
// or returns a host:port that listens as given and parses to itself.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"", "127.0.0.1:9569", ":1", "[::1]:2", "localhost:3", "a:b", "0.0.0.0:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("error without ErrInvalidAddress: %v", err)
			}
			return
		}
		host, port, err := net.SplitHostPort(got)
		if err != nil || port == "0" || port == "" {
			t.Fatalf("ParseAddress(%q) = %q: not host:port with a port", s, got)
		}
		if host != "" && host != "localhost" && net.ParseIP(host) == nil {
			t.Fatalf("ParseAddress(%q) = %q: host is not an IP", s, got)
		}
		again, err := ParseAddress(got)
		if err != nil || again != got {
			t.Fatalf("ParseAddress(%q) = %q, but again %q, %v", s, got, again, err)
		}
	})
}

// TestServerAnswers: the metrics on GET and HEAD, 405 for other methods,
// 404 elsewhere, and an oversized header refused.
func TestServerAnswers(t *testing.T) {
	var st State
	if err := st.Set(fullSnapshot()); err != nil {
		t.Fatal(err)
	}
	base := startServer(t, &st)
	c := &http.Client{Timeout: 5 * time.Second}
	cases := []struct {
		method, path string
		header       string
		status       int
		body         string
	}{
		{"GET", Path, "", 200, `dbbackup_last_success_timestamp_seconds{application="pg",unit=""}`},
		{"HEAD", Path, "", 200, ""},
		{"POST", Path, "", 405, "method not allowed"},
		{"DELETE", Path, "", 405, "method not allowed"},
		{"GET", "/", "", 404, "not found"},
		{"GET", "/metrics/x", "", 404, "not found"},
		{"GET", "/debug/pprof/", "", 404, "not found"},
		{"GET", Path, strings.Repeat("x", 20<<10), 431, ""},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.header != "" {
			req.Header.Set("X-Big", tc.header)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: got %s %.200q, want %d with %q", tc.method, tc.path, resp.Status, b, tc.status, tc.body)
		}
	}
}

// TestServeStopsAndFrees: Serve refuses a bad address before listening,
// reports a port in use, and on cancel returns and frees its port.
func TestServeStopsAndFrees(t *testing.T) {
	var st State
	if err := Serve(context.Background(), "example.com:9569", &st); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("Serve on a host name: got %v", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Serve(ctx, addr, &st); err == nil || !strings.Contains(err.Error(), "cannot serve metrics on "+addr) {
		t.Fatalf("Serve on a busy port: got %v", err)
	}
	busy.Close()

	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx2, addr, &st) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + Path)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Serve did not answer on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel2()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10 s of the cancel")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is still held after Serve returned: %v", err)
	}
	ln.Close()
}
