package postgres

import (
	"bufio"
	"io"
	"strings"
)

// ownRoleFilter drops from a pg_dumpall globals script the line that sets
// the attributes and password of the role we are connected as: restoring
// it would put back the password of the backup's day and lock out this very
// restore (and whoever manages that password now) on its next connection.
func ownRoleFilter(r io.Reader, user string) io.Reader {
	prefixes := []string{"ALTER ROLE " + user + " WITH ", "ALTER ROLE " + quoteIdent(user) + " WITH "}
	return &lineFilter{br: bufio.NewReader(r), drop: func(line string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				return true
			}
		}
		return false
	}}
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// lineFilter passes the lines of a text stream through, less those drop
// matches.
type lineFilter struct {
	br      *bufio.Reader
	drop    func(line string) bool
	pending []byte
	err     error
}

// Read returns the kept lines.
func (f *lineFilter) Read(p []byte) (int, error) {
	for len(f.pending) == 0 && f.err == nil {
		line, err := f.br.ReadBytes('\n')
		if len(line) > 0 && !f.drop(string(line)) {
			f.pending = line
		}
		f.err = err
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	if len(f.pending) == 0 && f.err != nil {
		return n, f.err
	}
	return n, nil
}
