package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddress is where the metrics are served unless configured: the
// loopback address, where the COS agent on the same machine scrapes them.
// Serving beyond the machine is the admin's explicit choice.
const DefaultAddress = "127.0.0.1:9569"

// Path is the HTTP path of the metrics.
const Path = "/metrics"

// ErrInvalidAddress is wrapped by every refusal of ParseAddress.
var ErrInvalidAddress = errors.New("invalid metrics address")

// The bounds of one request: a scrape reads a snapshot in memory, so
// anything slower is a stuck or hostile client.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
	maxInFlight       = 4
	handlerTimeout    = 5 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// ParseAddress checks a configured listen address and returns it in
// host:port form. An empty value gives DefaultAddress. The host must be
// an IP address or "localhost" (a name that resolves elsewhere would
// surprise the admin); an empty host ("":9569") means every interface and
// must be written so on purpose. The port is 1 to 65535.
func ParseAddress(s string) (string, error) {
	if s == "" {
		return DefaultAddress, nil
	}
	if len(s) > 64 {
		return "", fmt.Errorf("%w: longer than 64 bytes", ErrInvalidAddress)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: want host:port, such as %s", ErrInvalidAddress, s, DefaultAddress)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("%w: %q: port must be a number from 1 to 65535", ErrInvalidAddress, s)
	}
	switch {
	case host == "", host == "localhost":
	default:
		ip := net.ParseIP(host)
		if ip == nil || ip.IsMulticast() {
			return "", fmt.Errorf("%w: %q: host must be an IP address, \"localhost\" or empty for every interface", ErrInvalidAddress, s)
		}
		host = ip.String()
	}
	return net.JoinHostPort(host, port), nil
}

// Handler returns the HTTP handler of the metrics of st: GET or HEAD on
// Path, at most a few scrapes at once, each bounded in time. Other paths
// are 404 and other methods 405.
func Handler(st *State) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(st)
	prom := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		MaxRequestsInFlight: maxInFlight,
		Timeout:             handlerTimeout,
		ErrorHandling:       promhttp.HTTPErrorOnError,
	})
	mux := http.NewServeMux()
	mux.HandleFunc(Path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		prom.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found: the metrics are at "+Path, http.StatusNotFound)
	})
	return mux
}

// Serve serves the metrics of st on addr (checked by ParseAddress) until
// ctx is done, then shuts the server down, letting running scrapes finish
// for a few seconds. It returns nil after a shutdown through ctx.
func Serve(ctx context.Context, addr string, st *State) error {
	addr, err := ParseAddress(addr)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve metrics on %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, st)
}

// ServeListener is Serve on a listener the caller opened; it closes ln.
func ServeListener(ctx context.Context, ln net.Listener, st *State) error {
	srv := &http.Server{
		Handler:           Handler(st),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("cannot serve metrics on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("cannot serve metrics on %s: %w", ln.Addr(), err)
	}
	return nil
}
