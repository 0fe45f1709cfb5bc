package engine

import (
	"fmt"
	"strings"
)

// ToolError is the failure of a database tool: which tool, how it ended, and
// the last lines of its stderr, so the user sees the tool's own reason
// rather than "exit status 1".
type ToolError struct {
	// Tool is the program's base name, e.g. "pg_dump".
	Tool string
	// ExitCode is the exit status, or -1 when the tool was killed.
	ExitCode int
	// Tail holds the last lines of the tool's stderr, password masked.
	Tail []string
	// Err is the underlying error from running the process.
	Err error
}

// tailInMessage is how many of the last log lines Error shows.
const tailInMessage = 5

// Error returns e.g. "pg_dump exited with status 1: pg_dump: error: ...".
func (e *ToolError) Error() string {
	var b strings.Builder
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, "%s exited with status %d", e.Tool, e.ExitCode)
	} else {
		fmt.Fprintf(&b, "%s failed: %v", e.Tool, e.Err)
	}
	lines := e.Tail
	if len(lines) > tailInMessage {
		lines = lines[len(lines)-tailInMessage:]
	}
	if len(lines) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(lines, " | "))
	} else {
		b.WriteString(" (no output on stderr)")
	}
	return b.String()
}

// Unwrap returns the underlying process error.
func (e *ToolError) Unwrap() error { return e.Err }
