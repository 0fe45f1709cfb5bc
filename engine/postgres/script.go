package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// header is what a "pg_restore --create" script says before it connects to
// the database it made.
type header struct {
	// create is the CREATE DATABASE statement.
	create string
	// statements are the other statements about the database (its
	// owner), run inside the restore's transaction.
	statements string
}

// maxHeader bounds the part of a --create script before its \connect.
const maxHeader = 1 << 20

// errNoConnect says a --create script did not connect to its database.
var errNoConnect = errors.New("pg_restore --create wrote no \\connect")

// readHeader reads a "pg_restore --create" script up to and including its
// \connect line and returns what it held, less comments, session settings
// and psql meta-commands (\restrict, \unrestrict: the script's own
// \restrict follows the \connect). The rest of the script stays in r.
func readHeader(r *bufio.Reader) (header, error) {
	var h header
	var create, stmts strings.Builder
	inCreate, size := false, 0
	for {
		line, err := r.ReadString('\n')
		size += len(line)
		if size > maxHeader {
			return h, fmt.Errorf("cannot read the script of pg_restore --create: more than %d bytes before its \\connect", maxHeader)
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case inCreate:
			create.WriteString(line)
			inCreate = !strings.HasSuffix(trimmed, ";")
		case strings.HasPrefix(trimmed, `\connect `):
			h.create, h.statements = strings.TrimSpace(create.String()), stmts.String()
			if h.create == "" {
				return h, fmt.Errorf("cannot read the script of pg_restore --create: no CREATE DATABASE before its \\connect")
			}
			return h, nil
		case trimmed == "", strings.HasPrefix(trimmed, "--"), strings.HasPrefix(trimmed, `\`),
			strings.HasPrefix(trimmed, "SET "), strings.HasPrefix(trimmed, "SELECT pg_catalog.set_config("):
		case strings.HasPrefix(trimmed, "CREATE DATABASE "):
			create.WriteString(line)
			inCreate = !strings.HasSuffix(trimmed, ";")
		default:
			stmts.WriteString(line)
		}
		if err == io.EOF {
			return h, fmt.Errorf("cannot read the script of pg_restore --create: %w", errNoConnect)
		}
		if err != nil {
			return h, err
		}
	}
}

// scriptFilter passes a pg_restore script through, less the lines that
// would end the restore's transaction early:
//
//   - the BEGIN; and COMMIT; pg_restore writes around the data of large
//     objects (unless --single-transaction, which --create excludes): the
//     COMMIT would commit the restore halfway;
//   - with --create, the \connect lines it writes between the database's
//     own entries: psql would open a new session there and lose the
//     transaction. pg_dump writes each as "\unrestrict KEY", "\connect
//     ...", "\restrict KEY" with the key of the script's first \restrict
//     line, which nothing inside the dumped objects can know; a script
//     without a key (pg_dump before 15.14, 16.10, 17.6) has them alone on a
//     line after an empty one.
//
// The check before our COMMIT (commitSQL) catches what would slip through.
type scriptFilter struct {
	r       *bufio.Reader
	create  bool
	key     string // the \restrict key, once seen
	prev    []byte // the previous whole line, if short
	midLine bool   // the last chunk did not end a line
	// blobs is 1 after the comment heading the large objects' data, 2
	// after its BEGIN (dropped), until its COMMIT (dropped).
	blobs   int
	pending []byte
	err     error
}

// blobsHeading starts the comment pg_dump writes before the large
// objects' data.
const blobsHeading = "-- Data for Name: BLOBS; Type: BLOBS;"

func newScriptFilter(r *bufio.Reader, create bool) *scriptFilter {
	return &scriptFilter{r: r, create: create}
}

// Read returns the script less the dropped lines, as many lines as fit
// in p: a read per line would cost psql's pipe a write per row.
func (f *scriptFilter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(f.pending) == 0 {
			if f.err != nil {
				break
			}
			f.next()
			continue
		}
		c := copy(p[n:], f.pending)
		f.pending = f.pending[c:]
		n += c
	}
	if n == 0 && f.err != nil {
		return 0, f.err
	}
	return n, nil
}

// next reads the next line (or chunk of a long one) into pending, unless
// it is one to drop. pending points into the reader's buffer: it must be
// used up before the next call.
func (f *scriptFilter) next() {
	line, err := f.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		err = nil
	}
	f.err = err
	if len(line) == 0 {
		return
	}
	start := !f.midLine
	f.midLine = line[len(line)-1] != '\n'
	if start && bytes.HasPrefix(line, []byte(blobsHeading)) {
		f.blobs = 1
	}
	if start && !f.midLine && f.dropped(line) {
		return
	}
	f.pending = line
	if start && !f.midLine && len(line) < 512 {
		f.prev = append(f.prev[:0], line...)
	} else {
		f.prev = f.prev[:0]
	}
}

// dropped says whether a whole line is one to drop, and notes the
// \restrict key.
func (f *scriptFilter) dropped(line []byte) bool {
	switch line[0] {
	case '\\', 'B', 'C':
	default:
		return false
	}
	s := strings.TrimRight(string(line), "\r\n")
	switch {
	case f.blobs == 1 && s == "BEGIN;":
		f.blobs = 2
		return true
	case f.blobs == 2 && s == "COMMIT;":
		f.blobs = 0
		return true
	case f.key == "" && strings.HasPrefix(s, `\restrict `):
		f.key = strings.TrimPrefix(s, `\restrict `)
	case f.create && strings.HasPrefix(s, `\connect `):
		prev := strings.TrimRight(string(f.prev), "\r\n")
		if f.key != "" {
			return prev == `\unrestrict `+f.key
		}
		return prev == ""
	}
	return false
}
