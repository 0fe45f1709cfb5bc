// Package postgres backs up and restores PostgreSQL by driving pg_dump,
// pg_dumpall, pg_restore and psql.
//
// One database is dumped with "pg_dump -Fc -Z0": the custom format, so that
// pg_restore can restore it from a pipe, and uncompressed, because gzip
// inside pg_dump is its bottleneck and the artefact pipeline compresses with
// zstd anyway. It is restored by "pg_restore --file=-" piped into psql, in
// one transaction that first empties the database (see Restore): the
// database ends exactly as the backup recorded it, and a failed restore
// rolls back and leaves it as it was.
//
// All databases (Conn.Database empty) are one stream in the "pg-cluster-v1"
// format (see cluster.go): the globals (roles, tablespaces) from
// "pg_dumpall --globals-only", then one "pg_dump -Fc -Z0" archive per
// database. pg_dumpall alone would give one plain SQL script, which cannot
// be restored selectively, can only run through psql without rollback, and
// loses the custom format's per-database error handling; the framed stream
// keeps every database restorable by pg_restore, still from a pipe.
//
// The password travels in PGPASSWORD, never on a command line, and is masked
// in the job log and in errors.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// Stream formats written by Backup, recorded in Result.Format.
const (
	FormatCustom  = "pg_dump-custom"
	FormatCluster = "pg-cluster-v1"
)

// Options tune an Engine.
type Options struct {
	// BinDir is the folder of pg_dump, pg_restore, pg_dumpall and psql;
	// empty means PATH. Its pg_dump must be at least as new as the server.
	BinDir string
}

// Engine backs up and restores one PostgreSQL server.
type Engine struct {
	conn engine.Conn
	opts Options
}

var _ engine.Engine = (*Engine)(nil)

// New returns an Engine for the server and scope conn describes.
func New(conn engine.Conn, opts Options) *Engine {
	return &Engine{conn: conn, opts: opts}
}

// Kind returns engine.PostgreSQL.
func (e *Engine) Kind() engine.Kind { return engine.PostgreSQL }

// NeedsCheckedStream reports whether restoring backup needs its stream
// checked whole before Restore reads a byte. It is false for one database
// (FormatCustom): its load runs in one transaction, committed only after
// the stream was read to a clean end, so a stream failing at any point
// leaves the database as it was (and drops it again if the restore made
// it). It is true for all databases (FormatCluster), whose globals and
// databases are restored one after the other with no rollback across them,
// and for any other or missing format, to be safe.
func (e *Engine) NeedsCheckedStream(backup engine.Result) bool {
	return backup.Format != FormatCustom
}

// Check connects to the server and runs a query.
func (e *Engine) Check(ctx context.Context) error {
	_, err := e.ServerVersion(ctx)
	return err
}

// ServerVersion returns the server's server_version, e.g. "15.18 (Debian
// 15.18-0+deb12u1)".
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	out, err := e.query(ctx, e.maintenanceDB(), "SELECT current_setting('server_version')")
	if err != nil {
		return "", e.connectError(err)
	}
	return strings.TrimSpace(out), nil
}

// connectError explains a failed connection with the client's last line.
func (e *Engine) connectError(err error) error {
	var te *engine.ToolError
	if errors.As(err, &te) && len(te.Tail) > 0 {
		// psql's reason starts at its last "psql: error: " line and may go
		// on over a few more (a hint on the next line, tab-indented).
		lines := te.Tail
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.HasPrefix(lines[i], "psql: error: ") {
				lines = lines[i:]
				break
			}
		}
		for i := range lines {
			lines[i] = strings.TrimSpace(strings.TrimPrefix(lines[i], "psql: error: "))
		}
		return fmt.Errorf("cannot connect to PostgreSQL at %s: %s", e.conn.Addr(), strings.Join(lines, " "))
	}
	return fmt.Errorf("cannot connect to PostgreSQL at %s: %w", e.conn.Addr(), err)
}

// maintenanceDB is the database to connect to for cluster-wide work.
func (e *Engine) maintenanceDB() string {
	if e.conn.Database != "" {
		return e.conn.Database
	}
	return "postgres"
}

// env returns the libpq environment for database db. The database name
// travels in PGDATABASE: on a command line, a name holding "=" would be read
// as a connection string.
func (e *Engine) env(db string) []string {
	var env []string
	for _, p := range e.connParams(db) {
		env = append(env, p.env+"="+p.value)
	}
	if e.conn.Password != "" {
		env = append(env, "PGPASSWORD="+e.conn.Password)
	}
	// Clipped: callers append their own variables to it, and two appends
	// to one slice with room to spare would write the same element.
	return slices.Clip(env)
}

// path finds one of the PostgreSQL client tools.
func (e *Engine) path(name string) (string, error) {
	return tool.Find(e.opts.BinDir, name)
}

// cmd prepares a run of tool name against database db.
func (e *Engine) cmd(name, db string, args ...string) (tool.Cmd, error) {
	p, err := e.path(name)
	if err != nil {
		return tool.Cmd{}, err
	}
	return tool.Cmd{Path: p, Args: append([]string{"--no-password"}, args...), Env: e.env(db),
		Secrets: []string{e.conn.Password}}, nil
}

// query runs one SQL statement through psql and returns its unaligned,
// tuples-only output.
func (e *Engine) query(ctx context.Context, db, sql string, vars ...string) (string, error) {
	args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	c, err := e.cmd("psql", db, args...)
	if err != nil {
		return "", err
	}
	c.Stdin = strings.NewReader(sql)
	return tool.Output(ctx, c)
}

// checkMethod refuses what this engine cannot do yet.
func checkMethod(op string, m engine.Method) error {
	if m != "" && m != engine.MethodLogical {
		return fmt.Errorf("cannot %s PostgreSQL with method %q: %w", op, m, engine.ErrUnsupportedMethod)
	}
	return nil
}

// result starts a Result with what every backup and restore reports; db is
// a database that exists, to ask the server's version.
func (e *Engine) result(ctx context.Context, db, toolName string) (engine.Result, error) {
	r := engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Tool: toolName}
	v, err := e.query(ctx, db, "SELECT current_setting('server_version')")
	if err != nil {
		return r, e.connectError(err)
	}
	r.ServerVersion = strings.TrimSpace(v)
	p, err := e.path(toolName)
	if err != nil {
		return r, err
	}
	if r.ToolVersion, err = tool.Version(ctx, p); err != nil {
		return r, err
	}
	return r, nil
}
