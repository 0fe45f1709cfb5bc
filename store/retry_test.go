package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/store"
)

var errTransient = errors.New("connection reset")

func TestBackoffDo(t *testing.T) {
	permanent := &store.Error{Op: "put", Err: errors.New("access denied"), Permanent: true}
	tests := []struct {
		name      string
		errs      []error // returned by successive calls; nil after the end
		attempts  int
		wantCalls int
		wantErr   error
	}{
		{"success first", nil, 3, 1, nil},
		{"transient then success", []error{errTransient, errTransient}, 3, 3, nil},
		{"transient exhausts", []error{errTransient, errTransient, errTransient, errTransient}, 3, 3, errTransient},
		{"permanent stops", []error{permanent}, 5, 1, permanent},
		{"not found stops", []error{store.ErrNotFound}, 5, 1, store.ErrNotFound},
		{"zero attempts means one", []error{errTransient}, 0, 1, errTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits []time.Duration
			b := store.Backoff{Attempts: tt.attempts, Initial: 100 * time.Millisecond, Max: 150 * time.Millisecond,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			calls := 0
			err := b.Do(context.Background(), func(context.Context) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Do: calls = %d, err = %v; want %d, %v", calls, err, tt.wantCalls, tt.wantErr)
			}
			if len(waits) != max(calls-1, 0) {
				t.Errorf("waited %d times for %d calls", len(waits), calls)
			}
			for i, w := range waits {
				if w < 50*time.Millisecond || w > 150*time.Millisecond {
					t.Errorf("wait %d = %v, want within [50ms, 150ms]", i, w)
				}
			}
		})
	}
}

func TestBackoffCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	b := store.Backoff{Attempts: 10, Initial: time.Hour}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	err := b.Do(ctx, func(context.Context) error { calls++; return errTransient })
	if !errors.Is(err, errTransient) || calls != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("Do after cancel: err = %v, calls = %d, took %v", err, calls, time.Since(start))
	}
	if err := b.Do(ctx, func(context.Context) error { t.Error("op called on done context"); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Do(done ctx) = %v, want context.Canceled", err)
	}
}
