package store

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff retries an operation on transient errors, waiting longer after
// each failure, for a bounded number of attempts. It stops at once on a
// permanent error (see IsPermanent) or when the context is done.
type Backoff struct {
	// Attempts is the total number of tries, at least 1.
	Attempts int
	// Initial is the wait after the first failure.
	Initial time.Duration
	// Max caps the wait between two tries.
	Max time.Duration
	// Sleep waits for d or until ctx is done; nil means a real timer.
	// Tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Notify, when set, is told of each failure that will be retried.
	Notify func(attempt int, err error, wait time.Duration)
}

// DefaultBackoff is the policy backends use unless told otherwise: six
// tries over about fifteen seconds.
var DefaultBackoff = Backoff{Attempts: 6, Initial: 500 * time.Millisecond, Max: 8 * time.Second}

// Do calls op until it succeeds, fails permanently, the context is done or
// the attempts are spent, and returns op's last error.
func (b Backoff) Do(ctx context.Context, op func(ctx context.Context) error) error {
	attempts := max(b.Attempts, 1)
	wait := b.Initial
	var err error
	for i := 1; ; i++ {
		if cerr := ctx.Err(); cerr != nil {
			if err != nil {
				return err
			}
			return cerr
		}
		err = op(ctx)
		if err == nil || IsPermanent(err) || i >= attempts {
			return err
		}
		d := jitter(wait)
		if b.Notify != nil {
			b.Notify(i, err, d)
		}
		if serr := b.sleep(ctx, d); serr != nil {
			return err
		}
		wait = min(wait*2, max(b.Max, b.Initial))
	}
}

func (b Backoff) sleep(ctx context.Context, d time.Duration) error {
	if b.Sleep != nil {
		return b.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jitter spreads d over [d/2, d] so that clients failing together do not
// retry together.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
