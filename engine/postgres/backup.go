package postgres

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// Backup streams a backup into w: a pg_dump custom archive of Conn.Database,
// or a pg-cluster-v1 stream of every database when it is empty; with
// engine.MethodPhysical, a base backup of the whole cluster (FormatBaseTar,
// see physical.go), whatever Conn.Database says.
func (e *Engine) Backup(ctx context.Context, spec engine.BackupSpec, w io.Writer) (engine.Result, error) {
	if spec.Method == engine.MethodPhysical {
		return e.backupPhysical(ctx, spec, w)
	}
	if err := checkMethod("back up", spec.Method); err != nil {
		return engine.Result{}, err
	}
	res, err := e.result(ctx, e.maintenanceDB(), "pg_dump")
	if err != nil {
		return res, err
	}
	out := &tool.CountingWriter{W: w, Progress: spec.Progress}
	if e.conn.Database != "" {
		res.Format = FormatCustom
		res.Databases = []string{e.conn.Database}
		err = e.dump(ctx, e.conn.Database, spec.Log, out)
		res.Bytes = out.N
		if err != nil {
			return res, fmt.Errorf("cannot back up database %q: %w", e.conn.Database, err)
		}
		return res, nil
	}
	res.Format = FormatCluster
	res.Databases, err = e.databases(ctx)
	if err != nil {
		return res, err
	}
	err = e.dumpCluster(ctx, res.Databases, spec.Log, out)
	res.Bytes = out.N
	return res, err
}

// dump writes pg_dump's custom archive of db, uncompressed, to w.
func (e *Engine) dump(ctx context.Context, db string, log io.Writer, w io.Writer) error {
	c, err := e.cmd("pg_dump", db, "--format=custom", "--compress=0")
	if err != nil {
		return err
	}
	c.Stdout, c.Log = w, log
	return tool.Run(ctx, c)
}

// dumpCluster writes the globals and every database as pg-cluster-v1.
func (e *Engine) dumpCluster(ctx context.Context, dbs []string, log io.Writer, w io.Writer) error {
	if _, err := io.WriteString(w, clusterMagic); err != nil {
		return fmt.Errorf("cannot back up PostgreSQL: %w", err)
	}
	sw, err := beginSection(w, sectionGlobals, "")
	if err != nil {
		return fmt.Errorf("cannot back up PostgreSQL: %w", err)
	}
	logf(log, "dbbackup: pg_dumpall --globals-only")
	c, err := e.cmd("pg_dumpall", "postgres", "--globals-only")
	if err != nil {
		return err
	}
	c.Stdout, c.Log = sw, log
	if err := tool.Run(ctx, c); err != nil {
		return fmt.Errorf("cannot back up the PostgreSQL roles and tablespaces: %w", err)
	}
	if err := sw.endSection(); err != nil {
		return fmt.Errorf("cannot back up PostgreSQL: %w", err)
	}
	for _, db := range dbs {
		logf(log, "dbbackup: pg_dump of database %q", db)
		sw, err := beginSection(w, sectionDatabase, db)
		if err != nil {
			return fmt.Errorf("cannot back up database %q: %w", db, err)
		}
		if err := e.dump(ctx, db, log, sw); err != nil {
			return fmt.Errorf("cannot back up database %q: %w", db, err)
		}
		if err := sw.endSection(); err != nil {
			return fmt.Errorf("cannot back up database %q: %w", db, err)
		}
	}
	if err := writeEnd(w); err != nil {
		return fmt.Errorf("cannot back up PostgreSQL: %w", err)
	}
	return nil
}

// databases lists the databases a cluster backup holds: every one that
// accepts connections, templates excluded (template0 cannot be dumped;
// template1 is recreated by initdb).
func (e *Engine) databases(ctx context.Context) ([]string, error) {
	c, err := e.cmd("psql", "postgres", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--record-separator-zero")
	if err != nil {
		return nil, err
	}
	c.Stdin = strings.NewReader("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")
	out, err := tool.Output(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("cannot list the PostgreSQL databases: %w", err)
	}
	var dbs []string
	for _, name := range strings.Split(out, "\x00") {
		if name = strings.TrimSuffix(name, "\n"); name != "" {
			dbs = append(dbs, name)
		}
	}
	return dbs, nil
}

// logf writes one line of our own to the job log.
func logf(log io.Writer, format string, args ...any) {
	if log != nil {
		fmt.Fprintf(log, format+"\n", args...)
	}
}
