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

// Restore feeds a stream made by Backup to the client and leaves each
// database the stream holds in the state the backup recorded, whatever
// happened to it since: objects made after the backup (tables, views,
// triggers, routines, events) neither block the restore nor survive it.
// Grants on a database live in mysql.db and survive its restore; so do
// other databases.
//
//   - One database, from a checked stream: RestoreSpec.Database, else
//     Conn.Database, is dropped and created again with its previous
//     CREATE DATABASE (character set, collation, comment) before the load;
//     created when missing.
//   - One database of tables alone, from an unchecked stream: loaded into a
//     staging database and swapped in once the stream ended well; see
//     staging.go for what is atomic.
//   - All databases: each database of the stream is dropped right before
//     the stream's CREATE DATABASE; databases the stream does not hold are
//     not touched, nor are the system schemas. Accounts are created only
//     when missing (see writeAccounts).
//
// The client commits as it goes, so a stream must be checked whole first,
// unless RestoreSpec.Unchecked: then only a single database of tables alone
// is restored, through the staging database; anything else answers
// engine.ErrNeedsCheckedStream with nothing changed. A failure after the
// load started leaves the databases the restore emptied half loaded (a
// checked stream can still meet a client or server failure), and drops
// again every database the restore created.
func (e *Engine) Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (_ engine.Result, rerr error) {
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
	// createdDBs are the databases this restore created, dropped again if
	// it fails; existing lists the databases before a restore of all.
	var createdDBs, existing []string
	all := false
	watch := &databaseWatcher{r: br}
	switch string(head[:min(len(head), len(headerAll))]) {
	case headerAll:
		if spec.Unchecked {
			return res, fmt.Errorf("cannot restore all databases through a staging database: %w", engine.ErrNeedsCheckedStream)
		}
		if existing, err = e.databases(ctx); err != nil {
			return res, fmt.Errorf("cannot restore %s: %w", what, err)
		}
		all, watch.insert = true, dropDatabaseSQL
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
		} else {
			created, err := e.replaceDatabase(ctx, db)
			if err != nil {
				return res, fmt.Errorf("cannot restore %s: %w", what, err)
			}
			if created {
				createdDBs = []string{db}
			}
		}
		args = append(args, "--database="+loadInto)
	}
	defer func() {
		if all {
			createdDBs = createdBy(watch.found, existing)
		}
		if rerr != nil && len(createdDBs) > 0 {
			e.dropCreated(ctx, createdDBs, spec.Log)
		}
	}()
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
