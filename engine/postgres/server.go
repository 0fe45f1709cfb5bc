package postgres

import (
	"context"
	"fmt"
	"strings"
)

// InRecovery asks the server whether it is still recovering
// (pg_is_in_recovery): true while a restored data directory replays WAL,
// false once it was promoted to a read-write primary. An error means the
// server did not answer (it may still be starting).
func (e *Engine) InRecovery(ctx context.Context) (bool, error) {
	db := e.conn.Database
	if db == "" {
		db = "postgres"
	}
	out, err := e.query(ctx, db, "SELECT pg_is_in_recovery()")
	if err != nil {
		return false, e.connectError(err)
	}
	switch strings.TrimSpace(out) {
	case "t":
		return true, nil
	case "f":
		return false, nil
	}
	return false, fmt.Errorf("cannot tell whether PostgreSQL recovers: pg_is_in_recovery() answered %q", clipOut(out))
}

func clipOut(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// RestoreCommand builds a restore_command line that runs argv followed by
// PostgreSQL's "%f %p": each word shell-quoted, '%' doubled (the server
// expands %f and %p in it). A word holding a line break or NUL is refused.
func RestoreCommand(argv ...string) (string, error) {
	var b strings.Builder
	for _, w := range argv {
		if strings.ContainsAny(w, "\n\r\x00") {
			return "", fmt.Errorf("cannot write restore_command: %q holds a line break", clipOut(w))
		}
		b.WriteString("'" + strings.ReplaceAll(strings.ReplaceAll(w, "'", `'\''`), "%", "%%") + "' ")
	}
	b.WriteString("%f %p")
	return b.String(), nil
}
