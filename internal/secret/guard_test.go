package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

var errSentinel = errors.New("sentinel")

type opError struct {
	Op  string
	Err error
}

func (e *opError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *opError) Unwrap() error { return e.Err }

// TestGuardKeepsTheChain: after the guard, the text holds no secret and
// errors.Is and errors.As still find what the error wrapped, through
// fmt.Errorf's %w, a joined error and a typed error.
func TestGuardKeepsTheChain(t *testing.T) {
	const canary = "sk-CANARY-0123456789"
	inner := &opError{Op: "put s3://b/k with " + canary, Err: fmt.Errorf("denied for key %s: %w", canary, errSentinel)}
	for name, err := range map[string]error{
		"wrapped": fmt.Errorf("cannot store: %w", inner),
		"joined":  errors.Join(fs.ErrNotExist, inner),
		"typed":   inner,
	} {
		t.Run(name, func(t *testing.T) {
			g := Guard(err, []string{canary, "x"})
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if got := fmt.Sprintf(verb, g); strings.Contains(got, "CANARY") {
					t.Errorf("Sprintf(%s) = %s: the secret leaked", verb, got)
				}
			}
			if !strings.Contains(g.Error(), Mask) {
				t.Errorf("Error() = %q, want the secret masked", g.Error())
			}
			if !errors.Is(g, errSentinel) {
				t.Errorf("errors.Is(guarded, sentinel) = false: the chain was cut")
			}
			var op *opError
			if !errors.As(g, &op) || op != inner {
				t.Errorf("errors.As(guarded, *opError) = %v, want the inner error", op)
			}
			if name == "joined" && !errors.Is(g, fs.ErrNotExist) {
				t.Errorf("errors.Is(guarded, fs.ErrNotExist) = false")
			}
		})
	}
}

// TestGuardLeavesCleanErrorsAlone: nil stays nil, and an error without a
// secret is the same error.
func TestGuardLeavesCleanErrorsAlone(t *testing.T) {
	if Guard(nil, []string{"s"}) != nil {
		t.Error("Guard(nil) != nil")
	}
	err := fmt.Errorf("no secret here: %w", errSentinel)
	if got := Guard(err, []string{"sk-CANARY-0123456789", ""}); got != err {
		t.Errorf("Guard of a clean error = %v, want the same error", got)
	}
	if got := Guard(errSentinel, nil); got != errSentinel {
		t.Errorf("Guard without secrets = %v, want the same error", got)
	}
}
