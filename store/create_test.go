package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// plain hides the backend's Create, as a backend without one would be.
type plain struct{ store.Store }

func TestCreateFallback(t *testing.T) {
	ctx := context.Background()
	s := plain{memstore.New()}
	if _, ok := store.Store(s).(store.Creator); ok {
		t.Fatal("plain is a Creator; the test would not reach the fallback")
	}
	if _, err := store.Create(ctx, s, "a/started.json", bytes.NewReader([]byte("one")), store.PutOptions{}); err != nil {
		t.Fatalf("Create(missing key): %v", err)
	}
	_, err := store.Create(ctx, s, "a/started.json", bytes.NewReader([]byte("two")), store.PutOptions{})
	if !errors.Is(err, store.ErrExists) || !store.IsPermanent(err) {
		t.Errorf("Create(existing key) error = %v, want a permanent error wrapping ErrExists", err)
	}
	rc, err := s.Get(ctx, "a/started.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "one" {
		t.Errorf("object after a refused Create = %q, want %q", b, "one")
	}
}
