package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
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
		case preludeLine(trimmed):
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

// preludeLine reports whether a trimmed line of a pg_restore script may
// belong to a session prelude (what pg_restore writes at the script's
// start and after each of its \connect lines): blank, a comment, a psql
// meta-command, or a session setting (SET or set_config).
func preludeLine(s string) bool {
	return s == "" || strings.HasPrefix(s, "--") || strings.HasPrefix(s, `\`) ||
		strings.HasPrefix(s, "SET ") || strings.HasPrefix(s, "SELECT pg_catalog.set_config(")
}

// newerSettings are the session settings pg_restore writes into the
// prelude of its script whatever the server it is meant for (it cannot
// ask the server when it writes a script), each with the PostgreSQL
// major that introduced it: a server before that major refuses the line.
// pg_restore 17 and 18 write statement_timeout, lock_timeout,
// idle_in_transaction_session_timeout, transaction_timeout,
// client_encoding, standard_conforming_strings, search_path,
// check_function_bodies, xmloption, client_min_messages and
// row_security; all but transaction_timeout (17) are older than 14.
var newerSettings = []struct {
	name  string
	since int
}{
	{"transaction_timeout", 17},
}

// unknownSettings returns the settings of newerSettings a server of major
// does not know; none when major is 0 (not known): a server that knows a
// setting must get it (transaction_timeout = 0 keeps a long restore from
// the server's own timeout).
func unknownSettings(major int) []string {
	var out []string
	for _, s := range newerSettings {
		if major > 0 && major < s.since {
			out = append(out, s.name)
		}
	}
	return out
}

// leftOut returns the settings to leave out of pg_restore's script for
// the server of res (unknownSettings), and tells log those the tools of
// res write (a setting pg_restore writes from the major that introduced
// it on).
func leftOut(log io.Writer, res engine.Result) []string {
	server, tools := serverMajor(res.ServerVersion), serverMajor(res.ToolVersion)
	unknown := unknownSettings(server)
	var written []string
	for _, s := range newerSettings {
		if slices.Contains(unknown, s.name) && tools >= s.since {
			written = append(written, s.name)
		}
	}
	if len(written) > 0 {
		logf(log, "dbbackup: pg_restore %d writes %s, which PostgreSQL %d does not know: left out of its script's session settings",
			tools, strings.Join(written, ", "), server)
	}
	return unknown
}

// serverMajor reads the major of a server_version ("16.14", "15.18
// (Debian 15.18-0+deb12u1)") or of a tool's version line ("pg_restore
// (PostgreSQL) 18.0"); 0 when it cannot.
func serverMajor(v string) int {
	n, err := strconv.Atoi(major(v))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// scriptFilter passes a pg_restore script through, less the lines that
// would end the restore's transaction early or that the server would
// refuse:
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
//     line after an empty one;
//   - in a session prelude only (from the script's start, and from each of
//     the \connect lines above, to the first line preludeLine refuses),
//     a line "SET name ...;" of a setting the server does not know
//     (unknownSettings). Data cannot come before that first line (rows
//     follow their COPY statement), so no row is ever dropped.
//
// The check before our COMMIT (commitSQL) catches what would slip through.
type scriptFilter struct {
	r       *bufio.Reader
	create  bool
	unknown []string // settings to leave out of a prelude
	prelude bool     // in a session prelude
	key     string   // the \restrict key, once seen
	prev    []byte   // the previous whole line, if short
	midLine bool     // the last chunk did not end a line
	// blobs is 1 after the comment heading the large objects' data, 2
	// after its BEGIN (dropped), until its COMMIT (dropped).
	blobs   int
	pending []byte
	err     error
}

// blobsHeading matches the comment pg_restore writes before the data of
// large objects: named BLOBS in an archive of pg_dump before 17, by the
// range of the group's OIDs ("16384..16390", or one OID) from 17 on,
// which writes a BEGIN and a COMMIT around each group of up to 1000.
var blobsHeading = regexp.MustCompile(`^-- Data for Name: (BLOBS|[0-9]+(\.\.[0-9]+)?); Type: BLOBS; `)

// dataHeading starts every blobsHeading.
const dataHeading = "-- Data for Name: "

// newScriptFilter filters the script read from r (read with --create
// when create; past its header, see readHeader, which starts a prelude
// like the script's start), for a server that does not know the
// settings unknown.
func newScriptFilter(r *bufio.Reader, create bool, unknown []string) *scriptFilter {
	return &scriptFilter{r: r, create: create, unknown: unknown, prelude: true}
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
	if start && bytes.HasPrefix(line, []byte(dataHeading)) && blobsHeading.Match(line) {
		f.blobs = 1
	}
	if start && f.midLine {
		f.prelude = false // a line too long for a prelude's
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

// dropped says whether a whole line is one to drop, notes the \restrict
// key and where a session prelude starts and ends.
func (f *scriptFilter) dropped(line []byte) bool {
	if f.prelude && f.unknownSetting(line) {
		return true
	}
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
		own := prev == ""
		if f.key != "" {
			own = prev == `\unrestrict `+f.key
		}
		if own {
			f.prelude = true // pg_restore sets the new session up again
		}
		return own
	}
	return false
}

// unknownSetting reports whether a whole line of a session prelude sets
// one of the settings the server does not know, and ends the prelude at
// a line that cannot belong to it.
func (f *scriptFilter) unknownSetting(line []byte) bool {
	s := strings.TrimSpace(string(line))
	if !preludeLine(s) {
		f.prelude = false
		return false
	}
	rest, ok := strings.CutPrefix(s, "SET ")
	if !ok || !strings.HasSuffix(s, ";") {
		return false
	}
	name, _, _ := strings.Cut(rest, " ")
	return slices.Contains(f.unknown, name)
}
