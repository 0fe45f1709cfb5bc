package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// emptySQL opens a database's restore transaction and drops, inside it,
// everything of the database a pg_dump archive records, so that the
// archive's script then gives back exactly the backup's state: objects
// made since the backup neither block the load (a new table in a schema of
// the backup) nor survive it.
//
// It drops, in this order: event triggers (first, so none fires on the
// drops), publications, extensions (those not built in), every schema
// outside pg_catalog, information_schema and the pg_* ones (public
// included, CASCADE: with their tables, views, sequences, functions,
// types, domains, operators, collations, text search objects, statistics,
// default privileges ...), foreign servers and foreign-data wrappers,
// casts, procedural languages and access methods made by users, and every
// large object. It then makes the public schema afresh as the server's
// initdb does (owner pg_database_owner from PostgreSQL 14, USAGE for
// PUBLIC, plus CREATE before 15, the standard comment), which pg_dump
// records only as differences from that default: the script puts back any
// owner, ACL or comment the backup had.
//
// Not covered, left as they are: subscriptions (DROP SUBSCRIPTION cannot
// run in a transaction), database-wide default privileges (ALTER DEFAULT
// PRIVILEGES without IN SCHEMA), security labels on the database, and
// everything cluster-wide (roles, tablespaces). A public schema the backup
// did not have comes back with the default: pg_dump does not record its
// absence.
//
// The restoring user must be able to drop all of it: a superuser, or the
// owner of the database and of every object in it (event triggers,
// foreign-data wrappers and languages need a superuser anyway). The drops
// take an ACCESS EXCLUSIVE lock on every object until the COMMIT: the
// restore waits for sessions that hold locks, blocks the others, and needs
// max_locks_per_transaction to hold the database's objects twice.
const emptySQL = `BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL search_path = pg_catalog;
DO $dbbackup$
DECLARE
  r record;
BEGIN
  PERFORM set_config('dbbackup.restore', 'open', true);
  FOR r IN SELECT evtname FROM pg_event_trigger LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I CASCADE', r.evtname);
  END LOOP;
  FOR r IN SELECT pubname FROM pg_publication LOOP
    EXECUTE format('DROP PUBLICATION IF EXISTS %I CASCADE', r.pubname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE oid >= 16384 LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN SELECT srvname FROM pg_foreign_server LOOP
    EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', r.srvname);
  END LOOP;
  FOR r IN SELECT fdwname FROM pg_foreign_data_wrapper LOOP
    EXECUTE format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', r.fdwname);
  END LOOP;
  FOR r IN SELECT castsource::regtype AS s, casttarget::regtype AS t FROM pg_cast WHERE oid >= 16384 LOOP
    EXECUTE format('DROP CAST IF EXISTS (%s AS %s) CASCADE', r.s, r.t);
  END LOOP;
  FOR r IN SELECT lanname FROM pg_language WHERE oid >= 16384 LOOP
    EXECUTE format('DROP LANGUAGE IF EXISTS %I CASCADE', r.lanname);
  END LOOP;
  FOR r IN SELECT amname FROM pg_am WHERE oid >= 16384 LOOP
    EXECUTE format('DROP ACCESS METHOD IF EXISTS %I CASCADE', r.amname);
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;

  CREATE SCHEMA public;
  IF current_setting('server_version_num')::int >= 140000 THEN
    ALTER SCHEMA public OWNER TO pg_database_owner;
  ELSE
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', (SELECT rolname FROM pg_roles WHERE oid = 10));
  END IF;
  IF current_setting('server_version_num')::int >= 150000 THEN
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  ELSE
    GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$dbbackup$;
RESET search_path;
`

// resetDatabaseSQL clears the settings and comment of database db, inside
// the restore's transaction, before a --create script puts back those the
// backup recorded.
func resetDatabaseSQL(db string) string {
	return "ALTER DATABASE " + quoteIdent(db) + " RESET ALL;\nCOMMENT ON DATABASE " + quoteIdent(db) + " IS NULL;\n"
}

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
