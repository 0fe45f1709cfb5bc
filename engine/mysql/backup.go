package mysql

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// The first line of every stream Backup writes: an SQL comment telling
// Restore the scope.
const (
	headerDatabase = "-- dbbackup mysql-sql-v1 scope=database\n"
	headerAll      = "-- dbbackup mysql-sql-v1 scope=all\n"
)

// dumpArgs are the options of every dump: a consistent snapshot of InnoDB
// tables without locking them, stored code and events, binary data as hex
// so the SQL survives any transport, rows streamed rather than buffered.
var dumpArgs = []string{
	"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob",
	"--quick", "--default-character-set=utf8mb4", maxPacket,
}

// Backup streams plain SQL into w: of Conn.Database alone (without CREATE
// DATABASE or USE, so it can be restored under another name), or of every
// user database when it is empty (with CREATE DATABASE and USE).
func (e *Engine) Backup(ctx context.Context, spec engine.BackupSpec, w io.Writer) (engine.Result, error) {
	if err := checkMethod("back up", spec.Method); err != nil {
		return engine.Result{}, err
	}
	p, err := e.dumper()
	if err != nil {
		return engine.Result{}, err
	}
	res, err := e.result(ctx, p)
	if err != nil {
		return res, err
	}
	// MariaDB writes the binary log position of the snapshot without a
	// lock (Binlog_snapshot_file); mysqldump would need FLUSH TABLES WITH
	// READ LOCK, so MySQL backups do without.
	withPosition := false
	if strings.Contains(res.ServerVersion, "MariaDB") {
		if withPosition, err = e.binlogOn(ctx); err != nil {
			return res, fmt.Errorf("cannot back up: %w", err)
		}
	}
	head := &headWriter{w: w}
	out := &tool.CountingWriter{W: head, Progress: spec.Progress}
	args := append([]string(nil), dumpArgs...)
	if withPosition {
		args = append(args, "--master-data=2")
	}
	if !strings.Contains(res.ToolVersion, "MariaDB") {
		// MySQL's own mysqldump, against a server with GTIDs on (Charmed
		// MySQL's group replication), writes SET @@GLOBAL.GTID_PURGED and
		// turns binary logging off for the load: a restore into a server
		// that has executed transactions since fails on the first, and the
		// second would keep the restored rows from the other members of the
		// group. Without them the load gets new GTIDs and replicates like
		// any other write. MariaDB's tools have no such option.
		args = append(args, "--set-gtid-purged=OFF")
	}
	header := headerDatabase
	what := fmt.Sprintf("database %q", e.conn.Database)
	if e.conn.Database != "" {
		res.Databases = []string{e.conn.Database}
		args = append(args, "--", e.conn.Database)
	} else {
		header, what = headerAll, "MariaDB"
		if res.Databases, err = e.databases(ctx); err != nil {
			return res, fmt.Errorf("cannot back up %s: %w", what, err)
		}
		if len(res.Databases) == 0 {
			return res, fmt.Errorf("cannot back up %s: no user databases", what)
		}
		args = append(args, "--databases", "--")
		args = append(args, res.Databases...)
	}
	if _, err := io.WriteString(out, header); err != nil {
		return res, fmt.Errorf("cannot back up %s: %w", what, err)
	}
	err = e.run(ctx, tool.Cmd{Path: p, Args: args, Stdout: out, Log: spec.Log})
	if err == nil && header == headerAll {
		err = e.writeAccounts(ctx, out, spec.Log)
	}
	res.Bytes = out.N
	if err == nil && withPosition {
		var p engine.BinlogPosition
		if p, err = parseDumpPosition(head.head.Bytes()); err == nil {
			p.GTID = e.gtidAt(ctx, p)
			res.Binlog = &p
		}
	}
	if err != nil {
		return res, fmt.Errorf("cannot back up %s: %w", what, err)
	}
	if e.conn.Database != "" {
		// Tables alone once the dump is done: its restore may go through a
		// staging database (staging.go), which checks the loaded database
		// again, so an object made and dropped during the dump costs only
		// a fallback. Unknown means no.
		n, err := e.nonTables(ctx, e.conn.Database)
		res.TablesOnly = err == nil && n == 0
	}
	return res, nil
}
