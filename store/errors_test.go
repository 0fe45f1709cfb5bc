package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

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
	}
	for _, tt := range tests {
		if got := store.IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
