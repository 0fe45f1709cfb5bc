package postgres

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// A database is loaded by two tools joined by a pipe:
//
//	pg_restore --file=- [--no-owner] [--create]  <archive   (no connection)
//	psql -X -v ON_ERROR_STOP=1 --dbname <db>     <prelude + script + COMMIT
//
// pg_restore turns the custom archive into its SQL script; psql runs it
// after emptySQL (see prelude.go), all in one transaction that only we
// commit: the COMMIT is written after pg_restore exited cleanly AND the
// archive's stream was read to a clean end (so a digest checked at the very
// end of the stream still counts). Anything else closes psql's input
// without it, or kills psql: the server rolls the transaction back, and the
// database is as it was.

// commitSQL ends a load that read its whole stream; psql prints the marker
// only after the server accepted the COMMIT.
// The check before it fails when the session is no longer the one that
// opened the transaction (emptySQL sets dbbackup.restore in it).
const (
	commitMarker = "dbbackup: committed"
	commitSQL    = `DO $dbbackup$ BEGIN
  IF current_setting('dbbackup.restore', true) IS DISTINCT FROM 'open' THEN
    RAISE EXCEPTION 'the restore''s transaction was lost before its end';
  END IF;
END $dbbackup$;
COMMIT;
SELECT '` + commitMarker + `';
`
)

// errLoaderStopped closes pg_restore's output when psql has ended first.
var errLoaderStopped = errors.New("psql stopped reading the script")

// loadSpec says how to load one archive.
type loadSpec struct {
	db string
	// keepOwners restores the archive's owners (the cluster, whose roles
	// were just restored); otherwise the restoring user owns everything.
	keepOwners bool
	// create reads the archive with --create: its CREATE DATABASE makes
	// the database when missing, and its database-level statements
	// (owner, settings, comment) are put back.
	create bool
	// unknown are the settings the server does not know, left out of
	// pg_restore's script (see leftOut).
	unknown []string
	log     io.Writer
}

// load empties database s.db and loads the custom archive read from r into
// it, in one transaction, creating the database first when it is missing.
// It reports whether it created the database; on failure a database it
// created is dropped again (and created is false).
func (e *Engine) load(ctx context.Context, s loadSpec, r io.Reader) (created bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	args := []string{"--file=-"}
	if !s.keepOwners {
		args = append(args, "--no-owner")
	}
	if s.create {
		args = append(args, "--create")
	}
	dump, err := e.cmd("pg_restore", s.db, args...)
	if err != nil {
		return false, err
	}
	pr, pw := io.Pipe()
	dump.Stdin, dump.Stdout, dump.Log = r, pw, s.log
	logf(s.log, "dbbackup: pg_restore | psql into database %q, in one transaction", s.db)
	dumpDone := make(chan error, 1)
	go func() {
		err := tool.Run(ctx, dump)
		if err == nil {
			err = drain(r)
		}
		if err == nil {
			_, err = io.WriteString(pw, commitSQL)
		}
		if err != nil {
			pw.CloseWithError(err)
		} else {
			pw.Close()
		}
		dumpDone <- err
	}()
	// Whatever happens below, pg_restore must not wait on a full pipe.
	finish := func(perr error) error {
		pr.CloseWithError(errLoaderStopped)
		derr := <-dumpDone
		switch {
		case derr != nil && errors.Is(derr, errLoaderStopped) && perr != nil:
			return perr // psql failed first; pg_restore only lost its reader
		case derr != nil:
			return derr
		}
		return perr
	}

	script := bufio.NewReaderSize(pr, 256<<10)
	var hdr header
	if s.create {
		if hdr, err = readHeader(script); err != nil {
			return false, finish(err)
		}
	}
	exists, err := e.exists(ctx, s.db)
	if err != nil {
		return false, finish(err)
	}
	if !exists {
		if err := e.createDatabase(ctx, s.db, hdr.create, s.log); err != nil {
			return false, finish(err)
		}
		created = true
	}

	psql, err := e.cmd("psql", s.db, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1")
	if err != nil {
		return e.undoCreate(ctx, s, created, finish(err))
	}
	prelude := emptySQL
	if s.create {
		prelude += resetDatabaseSQL(s.db) + hdr.statements
	}
	out := &lastBytes{n: 64}
	psql.Stdin = io.MultiReader(strings.NewReader(prelude), newScriptFilter(script, s.create, s.unknown))
	psql.Stdout, psql.Log = out, s.log
	perr := tool.Run(ctx, psql)
	if perr == nil && !strings.HasSuffix(strings.TrimSpace(out.String()), commitMarker) {
		perr = fmt.Errorf("psql ended without committing")
	}
	if err := finish(perr); err != nil {
		return e.undoCreate(ctx, s, created, err)
	}
	return created, nil
}

// drain reads r to its end, so that an error the stream reports only at
// its end (a digest, a trailing frame) stops the load before its COMMIT.
func drain(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("cannot read the stream to its end: %w", err)
	}
	return nil
}

// createDatabase creates db with the archive's own CREATE DATABASE
// statement when there is one (it keeps the encoding and locale), else
// with the server's defaults.
func (e *Engine) createDatabase(ctx context.Context, db, stmt string, log io.Writer) error {
	logf(log, "dbbackup: creating database %q", db)
	var err error
	if stmt != "" {
		_, err = e.query(ctx, "postgres", stmt)
	} else {
		_, err = e.query(ctx, "postgres", `CREATE DATABASE :"db"`, "db="+db)
	}
	if err != nil {
		return fmt.Errorf("cannot create the database: %w", err)
	}
	return nil
}

// undoCreate drops the database a failed load created, and returns err
// (with the drop's own failure, if any).
func (e *Engine) undoCreate(ctx context.Context, s loadSpec, created bool, err error) (bool, error) {
	if !created {
		return false, err
	}
	if derr := e.dropDatabase(ctx, s.db, s.log); derr != nil {
		return false, fmt.Errorf("%w (and the database this restore created is left behind: %v)", err, derr)
	}
	return false, err
}

// dropTimeout bounds the drop of a database a failed restore created; it
// runs even when the restore's context was cancelled.
const dropTimeout = time.Minute

// dropDatabase drops db, which this restore created.
func (e *Engine) dropDatabase(ctx context.Context, db string, log io.Writer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dropTimeout)
	defer cancel()
	logf(log, "dbbackup: dropping database %q, created by this failed restore", db)
	if _, err := e.query(ctx, "postgres", `DROP DATABASE IF EXISTS :"db"`, "db="+db); err != nil {
		return fmt.Errorf("cannot drop database %q: %w", db, err)
	}
	return nil
}

// lastBytes keeps the last n bytes written to it.
type lastBytes struct {
	n   int
	buf []byte
}

// Write keeps the tail of p.
func (l *lastBytes) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	if len(l.buf) > l.n {
		l.buf = bytes.Clone(l.buf[len(l.buf)-l.n:])
	}
	return len(p), nil
}

func (l *lastBytes) String() string { return string(l.buf) }
