package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/store"
)

// creator returns s as a store.Creator, failing the test when the backend
// has no atomic conditional create.
func creator(t *testing.T, s store.Store) store.Creator {
	t.Helper()
	c, ok := s.(store.Creator)
	if !ok {
		t.Fatalf("%T is not a store.Creator: it has no atomic conditional create", s)
	}
	return c
}

func testCreate(t *testing.T, s store.Store) {
	c := creator(t, s)
	obj, err := c.Create(context.Background(), "claim/started.json", bytes.NewReader([]byte("first")), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		t.Fatalf("Create(missing key): %v", err)
	}
	if obj.Key != "claim/started.json" || obj.Size != 5 {
		t.Errorf("Create = %+v, want key claim/started.json size 5", obj)
	}
	if got := string(get(t, s, "claim/started.json")); got != "first" {
		t.Errorf("Get after Create = %q, want %q", got, "first")
	}
}

// testCreateExisting fails when the backend (a server ignoring
// If-None-Match, say) lets a conditional create replace an object.
func testCreateExisting(t *testing.T, s store.Store) {
	c := creator(t, s)
	ctx := context.Background()
	put(t, s, "claim/k", []byte("original"))
	_, err := c.Create(ctx, "claim/k", bytes.NewReader([]byte("intruder")), store.PutOptions{})
	if !errors.Is(err, store.ErrExists) || !store.IsPermanent(err) {
		t.Errorf("Create(existing key) error = %v, want a permanent error wrapping store.ErrExists", err)
	} else {
		t.Logf("refusal: %v", err)
	}
	if got := string(get(t, s, "claim/k")); got != "original" {
		t.Errorf("object after a refused Create = %q, want %q unchanged (the backend ignored the condition)", got, "original")
	}
	// store.Create goes through the backend's own Create.
	if _, err := store.Create(ctx, s, "claim/k", bytes.NewReader([]byte("again")), store.PutOptions{}); !errors.Is(err, store.ErrExists) {
		t.Errorf("store.Create(existing key) error = %v, want store.ErrExists", err)
	}
	if _, err := c.Create(ctx, "claim/../k", bytes.NewReader(nil), store.PutOptions{}); err == nil || !store.IsPermanent(err) {
		t.Errorf("Create(bad key) error = %v, want a permanent refusal", err)
	}
}

// testCreateRace starts n Creates of one key at once: exactly one may win,
// and the object holds the winner's bytes.
func testCreateRace(t *testing.T, s store.Store) {
	c := creator(t, s)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.Create(context.Background(), "race/started.json", bytes.NewReader(fmt.Appendf(nil, "writer %d", i)), store.PutOptions{})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both created race/started.json", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrExists):
			t.Errorf("writer %d: %v, want success or store.ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created race/started.json")
	}
	if got, want := string(get(t, s, "race/started.json")), fmt.Sprintf("writer %d", winner); got != want {
		t.Errorf("race/started.json = %q, want the winner's %q", got, want)
	}
}
