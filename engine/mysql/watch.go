package mysql

import (
	"bytes"
	"io"
	"slices"
	"strings"
)

// currentDatabase starts the comment mariadb-dump writes before each
// database of a --databases dump.
const currentDatabase = "-- Current Database: `"

// databaseWatcher passes a dump through and notes the databases it names
// in its "-- Current Database:" comments, each once.
type databaseWatcher struct {
	r io.Reader
	// line holds the start of the current line while it may still be such
	// a comment; skipping is true once it cannot be.
	line     []byte
	skipping bool
	found    []string
}

// Read reads from the dump, watching each line go by.
func (d *databaseWatcher) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.scan(p[:n])
	return n, err
}

// scan watches b go by. It jumps from newline to newline (bytes.IndexByte),
// so the megabyte-long INSERT lines of a dump cost next to nothing; a line
// is kept only while it can still be a currentDatabase comment, which stays
// false once false, so checking at the end of each piece of a line is the
// same as checking every byte.
func (d *databaseWatcher) scan(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		piece := b
		if i >= 0 {
			piece = b[:i]
		}
		if !d.skipping {
			if len(d.line)+len(piece) > 1024 {
				d.skipping, d.line = true, d.line[:0]
			} else if d.line = append(d.line, piece...); !prefixCompatible(d.line) {
				d.skipping, d.line = true, d.line[:0]
			}
		}
		if i < 0 {
			return
		}
		d.endLine()
		b = b[i+1:]
	}
}

// prefixCompatible reports whether line may still be a currentDatabase line.
func prefixCompatible(line []byte) bool {
	if len(line) <= len(currentDatabase) {
		return strings.HasPrefix(currentDatabase, string(line))
	}
	return bytes.HasPrefix(line, []byte(currentDatabase))
}

func (d *databaseWatcher) endLine() {
	if !d.skipping && len(d.line) > len(currentDatabase) && bytes.HasPrefix(d.line, []byte(currentDatabase)) &&
		bytes.HasSuffix(d.line, []byte("`")) {
		name := string(d.line[len(currentDatabase) : len(d.line)-1])
		name = strings.ReplaceAll(name, "``", "`")
		// Views come in a second pass that names each database again.
		if !slices.Contains(d.found, name) {
			d.found = append(d.found, name)
		}
	}
	d.line, d.skipping = d.line[:0], false
}
