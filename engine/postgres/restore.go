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
// the stream's first bytes.
//
// A custom archive is restored into RestoreSpec.Database, else
// Conn.Database (created when missing), with pg_restore --clean --if-exists
// --no-owner --single-transaction --exit-on-error: objects of the backup
// replace those of the same name, the restoring user owns them, and any
// error rolls the whole restore back.
//
// A pg-cluster-v1 stream restores the globals through psql first, then each
// database: an existing one as above but keeping owners (the roles were
// just restored), a missing one with pg_restore --create, which cannot run
// in one transaction: a failure there leaves a partly restored new
// database, named in the error, to drop before trying again.
func (e *Engine) Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (engine.Result, error) {
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
		err = e.restoreDatabase(ctx, db, false, spec.Log, br)
		res.Bytes = in.N
		if err != nil {
			return res, fmt.Errorf("cannot restore database %q: %w", db, err)
		}
		return res, nil
	case string(head) == clusterMagic:
		res.Format = FormatCluster
		res.Databases, err = e.restoreCluster(ctx, spec.Log, br)
		res.Bytes = in.N
		return res, err
	default:
		return res, fmt.Errorf("cannot restore: the stream is neither a pg_dump custom archive nor a %s stream (it starts with %q)", FormatCluster, head)
	}
}

// restoreDatabase loads one custom archive into db, creating db first when
// it is missing.
func (e *Engine) restoreDatabase(ctx context.Context, db string, keepOwners bool, log io.Writer, r io.Reader) error {
	exists, err := e.exists(ctx, db)
	if err != nil {
		return err
	}
	if !exists {
		logf(log, "dbbackup: creating database %q", db)
		if _, err := e.query(ctx, "postgres", `CREATE DATABASE :"db"`, "db="+db); err != nil {
			return fmt.Errorf("cannot create the database: %w", err)
		}
	}
	args := []string{dbnameFromEnv, "--clean", "--if-exists", "--single-transaction", "--exit-on-error"}
	if !keepOwners {
		args = append(args, "--no-owner")
	}
	logf(log, "dbbackup: pg_restore into database %q", db)
	c, err := e.cmd("pg_restore", db, args...)
	if err != nil {
		return err
	}
	c.Stdin, c.Log = r, log
	return tool.Run(ctx, c)
}

// dbnameFromEnv is the -d pg_restore requires: a connection string (it
// holds "=") without a dbname, so libpq takes the name from PGDATABASE.
const dbnameFromEnv = "--dbname=connect_timeout=30"

// exists reports whether database db exists.
func (e *Engine) exists(ctx context.Context, db string) (bool, error) {
	out, err := e.query(ctx, "postgres", `SELECT 1 FROM pg_database WHERE datname = :'db'`, "db="+db)
	if err != nil {
		return false, fmt.Errorf("cannot look up the database: %w", err)
	}
	return strings.TrimSpace(out) == "1", nil
}

// restoreCluster restores every section of a pg-cluster-v1 stream.
func (e *Engine) restoreCluster(ctx context.Context, log io.Writer, br *bufio.Reader) ([]string, error) {
	cr, err := newClusterReader(br)
	if err != nil {
		return nil, fmt.Errorf("cannot restore PostgreSQL: %w", err)
	}
	var dbs []string
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
			if err := e.restoreClusterDatabase(ctx, name, log, sr); err != nil {
				return dbs, fmt.Errorf("cannot restore database %q: %w", name, err)
			}
			dbs = append(dbs, name)
		}
	}
}

// restoreClusterDatabase restores one database of a cluster stream.
func (e *Engine) restoreClusterDatabase(ctx context.Context, db string, log io.Writer, r io.Reader) error {
	exists, err := e.exists(ctx, db)
	if err != nil {
		return err
	}
	if exists {
		return e.restoreDatabase(ctx, db, true, log, r)
	}
	logf(log, "dbbackup: pg_restore --create of database %q", db)
	c, err := e.cmd("pg_restore", "postgres", dbnameFromEnv, "--create", "--exit-on-error")
	if err != nil {
		return err
	}
	c.Stdin, c.Log = r, log
	return tool.Run(ctx, c)
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
