package postgres

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// Restore reads a stream made by Backup and loads it. The format is told by
// the stream's first bytes. Every database is loaded the same way (see
// load.go): the archive's script through psql, in one transaction that
// first drops everything the database holds (see emptySQL), so that the
// database ends exactly as the backup recorded it, whatever was created,
// dropped or altered since; the transaction is committed only once the
// stream was read to a clean end. What emptySQL leaves alone (subscriptions,
// database-wide default privileges) is kept; a public schema the backup
// did not have comes back as the server's default. The restoring user must
// be a superuser or own the database and everything in it; the restore
// waits for locks other sessions hold on its objects and blocks them until
// it ends. The client tools may be of a newer major than the server: the
// session settings their script sets and the server does not know (see
// newerSettings) are left out.
//
// A custom archive (FormatCustom) is restored into RestoreSpec.Database,
// else Conn.Database, created when missing; the restoring user owns what
// it restores (--no-owner). Guaranteed: either the database holds exactly
// the backup, or, on any failure (a stream that fails or is cut at any
// point, even its very end; a SQL error; a cancelled context), it is as it
// was before, and a database this restore created is dropped again. It is
// safe with RestoreSpec.Unchecked.
//
// A pg-cluster-v1 stream (FormatCluster) needs a stream checked whole
// beforehand (see NeedsCheckedStream): given RestoreSpec.Unchecked, it
// answers engine.ErrNeedsCheckedStream having changed nothing. It replays
// the globals through psql first (a superuser's work): the roles and
// tablespaces of the backup come back, with the attributes and memberships
// it recorded (the restoring role's own attributes and password
// excepted); roles created since are kept. Then each database of the
// backup, in its own transaction, with the backup's owners and the
// database's owner, settings and comment; a missing database is created by
// the backup's own CREATE DATABASE (encoding, locale). Databases not in
// the backup are left untouched. Not guaranteed: the cluster as one unit.
// A failure in one database (a SQL error; or a stream failing although
// checked) leaves that database as it was, the databases before it
// restored and the globals replayed; every database this run created is
// dropped again, those restored before the failure included.
func (e *Engine) Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (engine.Result, error) {
	if spec.Method == engine.MethodPhysical {
		return engine.Result{}, fmt.Errorf("cannot restore a physical backup into a running server: it is restored into a data directory (RestoreBase): %w", engine.ErrUnsupportedMethod)
	}
	if err := checkMethod("restore", spec.Method); err != nil {
		return engine.Result{}, err
	}
	res, err := e.result(ctx, "postgres", "pg_restore")
	if err != nil {
		return res, err
	}
	in := &tool.CountingReader{R: r, Progress: spec.Progress}
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(len(clusterMagic))
	switch {
	case bytes.HasPrefix(head, []byte("PGDMP")):
		res.Format = FormatCustom
		db := spec.Database
		if db == "" {
			db = e.conn.Database
		}
		if db == "" {
			return res, fmt.Errorf("cannot restore a single-database backup: no target database (set the restore's database)")
		}
		res.Databases = []string{db}
		_, err = e.load(ctx, loadSpec{db: db, unknown: leftOut(spec.Log, res), log: spec.Log}, br)
		res.Bytes = in.N
		if err != nil {
			return res, fmt.Errorf("cannot restore database %q: %w", db, err)
		}
		return res, nil
	case string(head) == clusterMagic:
		res.Format = FormatCluster
		if spec.Unchecked {
			return res, fmt.Errorf("cannot restore all databases from a stream checked as it is read: %w", engine.ErrNeedsCheckedStream)
		}
		res.Databases, err = e.restoreCluster(ctx, leftOut(spec.Log, res), spec.Log, br)
		res.Bytes = in.N
		return res, err
	default:
		return res, fmt.Errorf("cannot restore: the stream is neither a pg_dump custom archive nor a %s stream (it starts with %q)", FormatCluster, head)
	}
}

// exists reports whether database db exists.
func (e *Engine) exists(ctx context.Context, db string) (bool, error) {
	out, err := e.query(ctx, "postgres", `SELECT 1 FROM pg_database WHERE datname = :'db'`, "db="+db)
	if err != nil {
		return false, fmt.Errorf("cannot look up the database: %w", err)
	}
	return strings.TrimSpace(out) == "1", nil
}

// restoreCluster restores every section of a pg-cluster-v1 stream, less
// the settings unknown in pg_restore's scripts (see leftOut); on failure
// it drops the databases it created.
func (e *Engine) restoreCluster(ctx context.Context, unknown []string, log io.Writer, br *bufio.Reader) (dbs []string, err error) {
	var created []string
	defer func() {
		if err == nil {
			return
		}
		for _, db := range created {
			if derr := e.dropDatabase(ctx, db, log); derr != nil {
				err = fmt.Errorf("%w (and the database this restore created is left behind: %v)", err, derr)
			}
		}
	}()
	cr, err := newClusterReader(br)
	if err != nil {
		return nil, fmt.Errorf("cannot restore PostgreSQL: %w", err)
	}
	for {
		kind, name, sr, err := cr.next()
		if err == io.EOF {
			return dbs, nil
		}
		if err != nil {
			return dbs, fmt.Errorf("cannot restore PostgreSQL: %w", err)
		}
		switch kind {
		case sectionGlobals:
			if err := e.restoreGlobals(ctx, log, sr); err != nil {
				return dbs, fmt.Errorf("cannot restore the PostgreSQL roles and tablespaces: %w", err)
			}
		case sectionDatabase:
			made, err := e.load(ctx, loadSpec{db: name, keepOwners: true, create: true, unknown: unknown, log: log}, sr)
			if err != nil {
				return dbs, fmt.Errorf("cannot restore database %q: %w", name, err)
			}
			if made {
				created = append(created, name)
			}
			dbs = append(dbs, name)
		}
	}
}

// expectedGlobalsError matches the one error a globals restore expects:
// pg_dumpall writes CREATE ROLE for every role, the restoring superuser
// included, and the ALTER ROLE after it sets the attributes anyway.
var expectedGlobalsError = regexp.MustCompile(`ERROR:\s+role ".*" already exists`)

// restoreGlobals runs pg_dumpall's globals script through psql, less the
// attributes of our own role (see ownRoleFilter). It does not stop at the
// expected "role already exists" errors but fails on any other.
func (e *Engine) restoreGlobals(ctx context.Context, log io.Writer, r io.Reader) error {
	logf(log, "dbbackup: psql of the roles and tablespaces")
	c, err := e.cmd("psql", "postgres", "-X", "-q")
	if err != nil {
		return err
	}
	errs := &errorLines{}
	c.Stdin, c.Stdout = ownRoleFilter(r, e.conn.User), io.Discard
	c.Log = errs
	if log != nil {
		c.Log = io.MultiWriter(log, errs)
	}
	if err := tool.Run(ctx, c); err != nil {
		return err
	}
	if bad := errs.unexpected(); len(bad) > 0 {
		return fmt.Errorf("psql reported %d errors: %s", len(bad), strings.Join(bad[max(0, len(bad)-5):], " | "))
	}
	return nil
}

// errorLines collects psql's ERROR lines from the (already masked) log.
type errorLines struct {
	mu    sync.Mutex
	lines []string
}

// Write takes whole lines, as tool.Run writes them.
func (l *errorLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if strings.Contains(line, "ERROR:") && !expectedGlobalsError.MatchString(line) {
			l.lines = append(l.lines, line)
		}
	}
	return len(p), nil
}

func (l *errorLines) unexpected() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
