package mysql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// A restore from a stream checked only as it is read (RestoreSpec.Unchecked)
// cannot load straight into the target: MariaDB commits each statement, so
// a stream found damaged halfway would leave a half-restored database. It
// loads into a new staging database instead, and only once the stream has
// ended well (every checksum matched) swaps the tables in with one RENAME
// TABLE statement, which MariaDB applies to all of them or none:
//
//	RENAME TABLE target.t TO target.dbbackup_old_<id>_1, target.v TO target.dbbackup_old_<id>_2, staging.t TO target.t, ...
//
// Every table and view of the target moves out of the way in that
// statement, those the backup holds and those it does not (made after the
// backup), with the triggers on those tables: once it has run, the target
// holds exactly the backup's tables. Then, not atomically with the swap, the
// moved-out tables and views are dropped, and so are the target's routines
// and events (a backup of tables alone has none), and the staging database;
// a routine or event made between the swap and its drop is dropped too if
// the inspection before the swap saw it, else kept. The load overlaps the
// download instead of waiting for a whole verification pass first. A
// target that did not exist is created by the swap, and dropped again if
// the swap fails.
//
// RENAME TABLE cannot move views, triggers, routines or events to another
// database, so this is only for backups of tables alone (Result.TablesOnly,
// checked again in the staging database after the load), and not when a
// table of another database holds a foreign key to a table of the target
// (the key would follow the moved-out table and dangle once it is
// dropped; a checked restore drops and recreates the database, so the key
// finds the restored table by its name). In those cases Restore drops the
// staging database and answers engine.ErrNeedsCheckedStream, the target
// untouched.

// stagingPrefix starts the name of every staging database; oldPrefix every
// replaced table until it is dropped. A restore that is killed leaves them
// behind under these names, for an admin to drop.
const (
	stagingPrefix = "dbbackup_staging_"
	oldPrefix     = "dbbackup_old_"
)

// NeedsCheckedStream reports whether the backup must be checked whole
// before its restore starts: all but a single database of tables alone,
// which Restore loads through a staging database and swaps in only once
// the stream ended well, the target untouched otherwise (see staging.go).
// Either way the restored database ends as the backup recorded it (see
// Restore).
func (e *Engine) NeedsCheckedStream(backup engine.Result) bool { return !backup.TablesOnly }

// sqlString returns s as an SQL string literal that no byte of s can break.
func sqlString(s string) string {
	if s == "" {
		return "''"
	}
	return "CONVERT(X'" + hex.EncodeToString([]byte(s)) + "' USING utf8mb4)"
}

// nonTablesSQL is an expression counting the views, triggers, routines
// and events of the database named by the SQL string db.
func nonTablesSQL(db string) string {
	return "(SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = " + db +
		") + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " + db +
		") + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = " + db +
		") + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = " + db + ")"
}

// nonTables counts the views, triggers, routines and events of database db.
func (e *Engine) nonTables(ctx context.Context, db string) (int, error) {
	out, err := e.query(ctx, "", "SELECT "+nonTablesSQL(sqlString(db)))
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscan(out, &n); err != nil {
		return 0, fmt.Errorf("cannot read a count from %q", out)
	}
	return n, nil
}

// table is a table (or view) of a database.
type table struct {
	name string
	view bool
}

// routine is a stored routine or an event of a database: kind is what
// DROP names it by (PROCEDURE, FUNCTION, PACKAGE, PACKAGE BODY, EVENT).
type routine struct {
	name, kind string
}

// swapPlan is what swapIn learns of the staging and target databases, in
// one run of the client.
type swapPlan struct {
	nonTables int       // views, triggers, routines and events in staging
	referrers int       // foreign keys of other databases' tables into the target
	exists    bool      // the target exists
	loaded    []table   // staging's tables
	existing  []table   // target's tables and views
	routines  []routine // target's routines and events
}

// inspect reads the swapPlan of moving staging's tables into target.
// Names travel in hex so any byte survives the client's output.
func (e *Engine) inspect(ctx context.Context, staging, target string) (swapPlan, error) {
	s, t := sqlString(staging), sqlString(target)
	out, err := e.query(ctx, "", "SELECT 'x', "+nonTablesSQL(s)+";\n"+
		"SELECT 'f', COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = "+t+
		" AND CONSTRAINT_SCHEMA <> "+t+" AND CONSTRAINT_SCHEMA <> "+s+";\n"+
		"SELECT 'e', COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "+t+";\n"+
		"SELECT 's', HEX(TABLE_NAME), TABLE_TYPE = 'VIEW' FROM information_schema.TABLES WHERE TABLE_SCHEMA = "+s+" ORDER BY TABLE_NAME;\n"+
		"SELECT 't', HEX(TABLE_NAME), TABLE_TYPE = 'VIEW' FROM information_schema.TABLES WHERE TABLE_SCHEMA = "+t+" ORDER BY TABLE_NAME;\n"+
		"SELECT 'r', HEX(ROUTINE_NAME), HEX(ROUTINE_TYPE) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = "+t+" ORDER BY 2, 3;\n"+
		"SELECT 'r', HEX(EVENT_NAME), HEX('EVENT') FROM information_schema.EVENTS WHERE EVENT_SCHEMA = "+t+" ORDER BY 2;\n")
	if err != nil {
		return swapPlan{}, err
	}
	var p swapPlan
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 0 || f[0] == "" {
			continue
		}
		seen[f[0]] = true
		var err error
		switch {
		case (f[0] == "x" || f[0] == "f" || f[0] == "e") && len(f) == 2:
			var n int
			n, err = strconv.Atoi(f[1])
			switch f[0] {
			case "x":
				p.nonTables = n
			case "f":
				p.referrers = n
			default:
				p.exists = n > 0
			}
		case (f[0] == "s" || f[0] == "t") && len(f) == 3:
			var name []byte
			if name, err = hex.DecodeString(f[1]); err == nil {
				tb := table{name: string(name), view: f[2] == "1"}
				if f[0] == "s" {
					p.loaded = append(p.loaded, tb)
				} else {
					p.existing = append(p.existing, tb)
				}
			}
		case f[0] == "r" && len(f) == 3:
			var name, kind []byte
			if name, err = hex.DecodeString(f[1]); err == nil {
				if kind, err = hex.DecodeString(f[2]); err == nil {
					p.routines = append(p.routines, routine{name: string(name), kind: string(kind)})
				}
			}
		default:
			err = errors.New("unexpected line")
		}
		if err != nil {
			return swapPlan{}, fmt.Errorf("cannot read the client's answer %q: %v", line, err)
		}
	}
	if !seen["x"] || !seen["f"] || !seen["e"] {
		return swapPlan{}, fmt.Errorf("the client's answer lacks the counts: %q", out)
	}
	return p, nil
}

// randomID returns 12 random hex digits.
func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stage makes a new staging database and returns its name and a function
// that drops it, whatever the state of ctx.
func (e *Engine) stage(ctx context.Context) (string, func(), error) {
	name := stagingPrefix + randomID()
	if _, err := e.query(ctx, "", "CREATE DATABASE "+quoteIdent(name)+" CHARACTER SET utf8mb4"); err != nil {
		return "", nil, fmt.Errorf("cannot create the staging database %s: %w", name, err)
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = e.query(dctx, "", "DROP DATABASE IF EXISTS "+quoteIdent(name))
	}
	return name, drop, nil
}

// swapIn makes target (created when missing) hold exactly the tables of
// the loaded staging database: in one RENAME TABLE it moves every table
// and view of target out of the way and staging's tables in; then it drops
// what it moved out and target's routines and events (a failure to drop
// them is only written to log: the restore itself is done). It answers
// engine.ErrNeedsCheckedStream, having changed nothing, when the staging
// database holds what RENAME cannot move or a foreign key of another
// database points into target. A target it created is dropped again when
// the swap fails.
func (e *Engine) swapIn(ctx context.Context, staging, target string, log io.Writer) error {
	p, err := e.inspect(ctx, staging, target)
	if err != nil {
		return fmt.Errorf("cannot inspect the staging database %s: %w", staging, err)
	}
	if p.nonTables > 0 {
		return fmt.Errorf("the backup holds %d views, triggers, routines or events, which cannot be swapped in: %w", p.nonTables, engine.ErrNeedsCheckedStream)
	}
	if p.referrers > 0 {
		return fmt.Errorf("%d foreign keys of tables in other databases point into it: %w", p.referrers, engine.ErrNeedsCheckedStream)
	}
	id := randomID()
	var renames, drops []string
	tq, sq := quoteIdent(target), quoteIdent(staging)
	for i, t := range p.existing {
		oldName := fmt.Sprintf("%s%s_%d", oldPrefix, id, i+1)
		renames = append(renames, tq+"."+quoteIdent(t.name)+" TO "+tq+"."+quoteIdent(oldName))
		kind := "TABLE"
		if t.view {
			kind = "VIEW"
		}
		drops = append(drops, "DROP "+kind+" IF EXISTS "+tq+"."+quoteIdent(oldName)+";")
	}
	for _, t := range p.loaded {
		renames = append(renames, sq+"."+quoteIdent(t.name)+" TO "+tq+"."+quoteIdent(t.name))
	}
	for _, r := range p.routines {
		switch r.kind {
		case "PACKAGE BODY": // dropped with its package
		case "PACKAGE": // known to the parser in Oracle mode only (MariaDB 10.3 to 11.3)
			drops = append(drops, "SET SESSION sql_mode = 'ORACLE';", "DROP PACKAGE IF EXISTS "+tq+"."+quoteIdent(r.name)+";",
				"SET SESSION sql_mode = DEFAULT;")
		default:
			drops = append(drops, "DROP "+r.kind+" IF EXISTS "+tq+"."+quoteIdent(r.name)+";")
		}
	}
	swap := "CREATE DATABASE IF NOT EXISTS " + tq + ";\n"
	if len(renames) > 0 {
		swap += "RENAME TABLE " + strings.Join(renames, ", ") + ";\n"
	}
	if _, err := e.query(ctx, "", swap); err != nil {
		if !p.exists {
			e.dropCreated(ctx, []string{target}, log)
		}
		return fmt.Errorf("cannot swap the restored tables in: %w", err)
	}
	// The backup is in; what is left is cleaning up, which goes on even if
	// the caller gives up now.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	if len(drops) > 0 {
		if _, err := e.query(dctx, "", "SET SESSION foreign_key_checks = 0;\n"+strings.Join(drops, "\n")); err != nil && log != nil {
			fmt.Fprintf(log, "restored, but cannot drop the replaced tables %s%s_* or the routines and events of %q (drop them by hand): %v\n", oldPrefix, id, target, err)
		}
	}
	return nil
}
