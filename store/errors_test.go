package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/store"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *store.Error
		want string
	}{
		{&store.Error{Op: "put", Key: "a/b", Bucket: "bk", Endpoint: "http://h:1", Err: errors.New("boom"), Hint: "check it"},
			`cannot put "a/b" in bucket "bk" at http://h:1: boom (check it)`},
		{&store.Error{Op: "list", Bucket: "bk", Err: errors.New("x")}, `cannot list in bucket "bk": x`},
		{&store.Error{Op: "delete prefix"}, `cannot delete prefix`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("reset"), false},
		{&store.Error{Err: errors.New("503")}, false},
		{fmt.Errorf("wrap: %w", &store.Error{Permanent: true}), true},
		{fmt.Errorf("get: %w", store.ErrNotFound), true},
		{context.Canceled, true},
		{context.DeadlineExceeded, true},
		{&store.Error{Err: fmt.Errorf("op: %w", context.DeadlineExceeded)}, true},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", context.Canceled)), true},
		{deadlineLike{}, false},
		{&store.Error{Err: deadlineLike{}}, false},
	}
	for _, tt := range tests {
		if got := store.IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// deadlineLike claims to be context.DeadlineExceeded through an Is method,
// as net/http's transport timeouts do.
type deadlineLike struct{}

func (deadlineLike) Error() string        { return "timeout" }
func (deadlineLike) Is(target error) bool { return target == context.DeadlineExceeded }

// A server that answers late makes net/http fail with "timeout awaiting
// response headers", an error that says it Is context.DeadlineExceeded. It
// is the transport's own timeout, not the caller's context: a retry may
// succeed, so it must not count as permanent (CI once failed an upload on
// it instead of retrying the part).
func TestResponseHeaderTimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}
	defer tr.CloseIdleConnections()
	_, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err == nil {
		t.Fatal("the late server answered in time")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("net/http's timeout %v no longer claims to be a deadline; this test's premise changed", err)
	}
	if store.IsPermanent(err) || store.IsPermanent(&store.Error{Op: "put", Err: err}) {
		t.Errorf("IsPermanent(%v) = true, want false (the transport's timeout is transient)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	_, err = http.DefaultClient.Do(req)
	if err == nil || !store.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false after the caller's deadline, want true", err)
	}
}
