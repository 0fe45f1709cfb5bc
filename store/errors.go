package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is wrapped by the errors of Get and Stat for a missing object.
var ErrNotFound = errors.New("object not found")

var errEmptyPrefix = errors.New("empty prefix would select every object")

// Error describes a failed store operation: what was attempted, where, and
// what the user can do about it. It never carries credentials.
type Error struct {
	// Op is the operation, such as "put", "get", "list" or "delete".
	Op string
	// Bucket is the bucket (or other container) the operation addressed.
	Bucket string
	// Endpoint is the server's URL, without any user information.
	Endpoint string
	// Key is the object key or prefix, as the backend saw it.
	Key string
	// Hint tells the user what to check, when the cause is known.
	Hint string
	// Permanent reports that retrying the same request cannot succeed.
	Permanent bool
	// Err is the underlying error.
	Err error
}

// Error returns a message such as
// `cannot put "a/b" in bucket "backups" at http://127.0.0.1:9000: ...`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("cannot ")
	b.WriteString(e.Op)
	if e.Key != "" {
		fmt.Fprintf(&b, " %q", e.Key)
	}
	if e.Bucket != "" {
		fmt.Fprintf(&b, " in bucket %q", e.Bucket)
	}
	if e.Endpoint != "" {
		fmt.Fprintf(&b, " at %s", e.Endpoint)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether retrying the operation that returned err is
// pointless: the object is missing (or, for a create, present), the
// caller's context is done, or the backend marked the error permanent
// (wrong credentials, missing bucket, ...).
//
// A timeout of the transport itself (net/http's "timeout awaiting response
// headers") is transient even though it answers errors.Is(err,
// context.DeadlineExceeded): only the context's own error values, found in
// err's chain, mean that the caller gave up.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists) || isContextErr(err) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// isContextErr reports whether err's chain holds context.Canceled or
// context.DeadlineExceeded itself, compared by identity so that errors
// which merely claim to be a deadline (through an Is method) do not count.
func isContextErr(err error) bool {
	for depth := 0; err != nil && depth < 100; depth++ {
		if err == context.Canceled || err == context.DeadlineExceeded {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				if isContextErr(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
