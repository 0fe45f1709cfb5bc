package engine

import (
	"errors"
	"testing"
)

func TestToolErrorMessage(t *testing.T) {
	base := errors.New("signal: killed")
	tests := []struct {
		e    ToolError
		want string
	}{
		{ToolError{Tool: "pg_dump", ExitCode: 1, Tail: []string{"a", "b", "c", "d", "e", "f"}}, "pg_dump exited with status 1: b | c | d | e | f"},
		{ToolError{Tool: "mariadb", ExitCode: -1, Err: base}, "mariadb failed: signal: killed (no output on stderr)"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	e := &ToolError{Tool: "x", Err: base}
	if !errors.Is(e, base) {
		t.Errorf("ToolError does not unwrap to its cause")
	}
}
