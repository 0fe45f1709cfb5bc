package mysql

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// Restore feeds a stream made by Backup to the client. A single-database
// stream goes into RestoreSpec.Database, else Conn.Database (created when
// missing); a stream of all databases creates and fills each of its
// databases. Tables in the backup replace those of the same name; others
// are left alone.
//
// The client commits as it goes, so a stream must be checked whole first,
// unless RestoreSpec.Unchecked: then a single database of tables alone is
// loaded into a staging database and swapped in once the stream ended well
// (see staging.go); anything else answers engine.ErrNeedsCheckedStream
// with nothing changed.
func (e *Engine) Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (engine.Result, error) {
	if err := checkMethod("restore", spec.Method); err != nil {
		return engine.Result{}, err
	}
	p, err := e.client()
	if err != nil {
		return engine.Result{}, err
	}
	res, err := e.result(ctx, p)
	if err != nil {
		return res, err
	}
	in := &tool.CountingReader{R: r, Progress: spec.Progress}
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(len(headerDatabase))
	args := []string{"--batch", "--binary-mode", "--default-character-set=utf8mb4", maxPacket}
	if strings.Contains(res.ToolVersion, "MariaDB") {
		// The failing statement may be megabytes of INSERT: the error
		// line with its "near '...'" is what the job log needs.
		args = append(args, "--skip-print-query-on-error")
	}
	what := "MariaDB"
	var staging string // the database an unchecked stream loads into
	switch string(head[:min(len(head), len(headerAll))]) {
	case headerAll:
		if spec.Unchecked {
			return res, fmt.Errorf("cannot restore all databases through a staging database: %w", engine.ErrNeedsCheckedStream)
		}
	default:
		if string(head) != headerDatabase {
			return res, fmt.Errorf("cannot restore: the stream is not a %s backup (it starts with %q)", FormatSQL, head)
		}
		db := spec.Database
		if db == "" {
			db = e.conn.Database
		}
		if db == "" {
			return res, fmt.Errorf("cannot restore a single-database backup: no target database (set the restore's database)")
		}
		what = fmt.Sprintf("database %q", db)
		res.Databases = []string{db}
		loadInto := db
		if spec.Unchecked {
			var drop func()
			if staging, drop, err = e.stage(ctx); err != nil {
				// The account may lack the privilege; a checked restore needs none.
				return res, fmt.Errorf("cannot restore %s: %v: %w", what, err, engine.ErrNeedsCheckedStream)
			}
			defer drop()
			loadInto = staging
		} else if _, err := e.query(ctx, "", "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db)); err != nil {
			return res, fmt.Errorf("cannot restore %s: cannot create it: %w", what, err)
		}
		args = append(args, "--database="+loadInto)
	}
	watch := &databaseWatcher{r: br}
	err = e.run(ctx, tool.Cmd{Path: p, Args: args, Stdin: watch, Stdout: io.Discard, Log: spec.Log})
	if err == nil && spec.Unchecked {
		// The client may stop reading before the end: the rest must still
		// be read, and so checked, before the swap.
		var rest int64
		if rest, err = io.Copy(io.Discard, br); err == nil && rest > 0 {
			err = fmt.Errorf("the client stopped %d bytes before the end of the backup", rest)
		}
	}
	res.Bytes = in.N
	if res.Databases == nil {
		res.Databases = watch.found
	}
	if err == nil && spec.Unchecked {
		err = e.swapIn(ctx, staging, res.Databases[0], spec.Log)
	}
	if err != nil {
		return res, fmt.Errorf("cannot restore %s: %w", what, err)
	}
	return res, nil
}
