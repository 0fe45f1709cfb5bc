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
// in its "-- Current Database:" comments, each once. With insert set, it
// also hands out insert's SQL for a database right after the comment line
// that first names it, before the dump's CREATE DATABASE.
type databaseWatcher struct {
	r io.Reader
	// insert returns the SQL (whole lines) to put after the first comment
	// naming a database, or "" for none. May be nil.
	insert func(name string) string
	// held is what was read from r, or inserted, but not handed out yet;
	// heldErr is r's error, returned once held is handed out.
	held    []byte
	heldErr error
	// line holds the start of the current line while it may still be such
	// a comment; skipping is true once it cannot be.
	line     []byte
	skipping bool
	found    []string
}

// Read reads from the dump, watching each line go by.
func (d *databaseWatcher) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(d.held) > 0 {
		n = copy(p, d.held)
		d.held = d.held[n:]
		if len(d.held) == 0 {
			err, d.heldErr = d.heldErr, nil
		}
	} else {
		n, err = d.r.Read(p)
	}
	k, sql := d.scan(p[:n])
	if sql != "" {
		// What follows the comment line waits behind the inserted SQL,
		// and is watched as it is handed out.
		held := make([]byte, 0, len(sql)+n-k+len(d.held))
		held = append(append(append(held, sql...), p[k:n]...), d.held...)
		d.held = held
		if err != nil {
			d.heldErr, err = err, nil
		}
		return k, nil
	}
	return n, err
}

// scan watches b go by. It jumps from newline to newline (bytes.IndexByte),
// so the megabyte-long INSERT lines of a dump cost next to nothing; a line
// is kept only while it can still be a currentDatabase comment, which stays
// false once false, so checking at the end of each piece of a line is the
// same as checking every byte. It stops after a line that names a database
// for the first time when insert has SQL for it, and returns how much of b
// it watched and that SQL.
func (d *databaseWatcher) scan(b []byte) (int, string) {
	done := 0
	for done < len(b) {
		rest := b[done:]
		i := bytes.IndexByte(rest, '\n')
		piece := rest
		if i >= 0 {
			piece = rest[:i]
		}
		if !d.skipping {
			if len(d.line)+len(piece) > 1024 {
				d.skipping, d.line = true, d.line[:0]
			} else if d.line = append(d.line, piece...); !prefixCompatible(d.line) {
				d.skipping, d.line = true, d.line[:0]
			}
		}
		if i < 0 {
			return len(b), ""
		}
		done += i + 1
		if name, ok := d.endLine(); ok && d.insert != nil {
			if sql := d.insert(name); sql != "" {
				return done, sql
			}
		}
	}
	return done, ""
}

// prefixCompatible reports whether line may still be a currentDatabase line.
func prefixCompatible(line []byte) bool {
	if len(line) <= len(currentDatabase) {
		return strings.HasPrefix(currentDatabase, string(line))
	}
	return bytes.HasPrefix(line, []byte(currentDatabase))
}

// endLine ends the current line and returns the database it names for the
// first time, if it does.
func (d *databaseWatcher) endLine() (string, bool) {
	var name string
	isNew := false
	if !d.skipping && len(d.line) > len(currentDatabase) && bytes.HasPrefix(d.line, []byte(currentDatabase)) &&
		bytes.HasSuffix(d.line, []byte("`")) {
		name = string(d.line[len(currentDatabase) : len(d.line)-1])
		name = strings.ReplaceAll(name, "``", "`")
		// Views come in a second pass that names each database again.
		if !slices.Contains(d.found, name) {
			d.found = append(d.found, name)
			isNew = true
		}
	}
	d.line, d.skipping = d.line[:0], false
	return name, isNew
}
