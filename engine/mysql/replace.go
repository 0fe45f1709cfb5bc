package mysql

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// A restore gives back the state a backup recorded: the databases it
// restores are emptied first, so that nothing made after the backup
// survives beside what the backup holds. This file holds how a checked
// restore empties them and how a failed restore removes the databases it
// created; the staged path empties its target in the swap (staging.go).

// replaceDatabase prepares database db for a checked load: an existing db
// is dropped and created again with its own CREATE DATABASE (character
// set, collation, comment), foreign key checks off so that a key from
// another database does not stop the drop (the key points again at its
// table once the load creates it under the same name, as after the dump's
// own DROP TABLE); a missing db is created, and created reports it. Grants
// on db live in mysql.db and survive the drop.
func (e *Engine) replaceDatabase(ctx context.Context, db string) (created bool, err error) {
	out, err := e.query(ctx, "", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "+sqlString(db))
	if err != nil {
		return false, fmt.Errorf("cannot look it up: %w", err)
	}
	if strings.TrimSpace(out) == "0" {
		if _, err := e.query(ctx, "", "CREATE DATABASE "+quoteIdent(db)); err != nil {
			return false, fmt.Errorf("cannot create it: %w", err)
		}
		return true, nil
	}
	if out, err = e.query(ctx, "", "SHOW CREATE DATABASE "+quoteIdent(db)); err != nil {
		return false, fmt.Errorf("cannot read its CREATE DATABASE: %w", err)
	}
	create, ok := strings.CutPrefix(strings.TrimSuffix(out, "\n"), db+"\t")
	if !ok || !strings.HasPrefix(create, "CREATE DATABASE ") {
		return false, fmt.Errorf("cannot read its CREATE DATABASE from %q", out)
	}
	if _, err := e.query(ctx, "", "SET SESSION foreign_key_checks = 0;\nDROP DATABASE "+quoteIdent(db)+";\n"+create+";\n"); err != nil {
		return false, fmt.Errorf("cannot empty it (drop and create it again): %w", err)
	}
	return false, nil
}

// dropDatabaseSQL is the SQL a restore of all databases runs right after
// the comment that first names database db in the stream, before the
// stream's CREATE DATABASE IF NOT EXISTS: so the database ends as the
// backup recorded it, nothing made since left in it. The system schemas
// are never dropped. The dump sets foreign_key_checks to 0 first.
func dropDatabaseSQL(db string) string {
	if slices.Contains(systemSchemas, strings.ToLower(db)) {
		return ""
	}
	return "DROP DATABASE IF EXISTS " + quoteIdent(db) + ";\n"
}

// createdBy returns the databases of found that are not in existing (the
// user databases before the restore), leaving out the system schemas.
func createdBy(found, existing []string) []string {
	var created []string
	for _, db := range found {
		if !slices.Contains(existing, db) && !slices.Contains(systemSchemas, strings.ToLower(db)) {
			created = append(created, db)
		}
	}
	return created
}

// dropCreated drops the databases a failed restore created, whatever the
// state of ctx: a refused restore leaves no database behind that was not
// there before. A failure to drop one is written to log.
func (e *Engine) dropCreated(ctx context.Context, dbs []string, log io.Writer) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var sql strings.Builder
	sql.WriteString("SET SESSION foreign_key_checks = 0;\n")
	for _, db := range dbs {
		sql.WriteString("DROP DATABASE IF EXISTS " + quoteIdent(db) + ";\n")
	}
	if _, err := e.query(dctx, "", sql.String()); err != nil && log != nil {
		fmt.Fprintf(log, "the restore failed, and cannot drop the databases it created %q (drop them by hand): %v\n", dbs, err)
	}
}
