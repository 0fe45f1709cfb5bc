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
//	RENAME TABLE target.t TO target.dbbackup_old_<id>_1, staging.t TO target.t, ...
//
// then drops the old tables and the staging database. A table of the target
// that the backup does not hold is left alone, as a checked restore leaves
// it. The load overlaps the download instead of waiting for a whole
// verification pass first.
//
// RENAME TABLE cannot move views, triggers, routines or events to another
// database, so this is only for backups of tables alone (Result.TablesOnly,
// checked again in the staging database after the load), and not when a
// table outside the backup holds a foreign key to one it replaces (the key
// would follow the old table). In those cases Restore drops the staging
// database and answers engine.ErrNeedsCheckedStream, the target untouched.

// stagingPrefix starts the name of every staging database; oldPrefix every
// replaced table until it is dropped. A restore that is killed leaves them
// behind under these names, for an admin to drop.
const (
	stagingPrefix = "dbbackup_staging_"
	oldPrefix     = "dbbackup_old_"
)

// NeedsCheckedStream reports whether the backup must be checked whole
// before its restore starts: all but a single database of tables alone,
// which Restore loads through a staging database (see staging.go).
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

// swapPlan is what swapIn learns of the staging and target databases, in
// one run of the client.
type swapPlan struct {
	nonTables int     // views, triggers, routines and events in staging
	referrers int     // foreign keys from outside the loaded set into the target tables it replaces
	loaded    []table // staging's tables
	existing  []table // target's tables and views
}

// inspect reads the swapPlan of moving staging's tables into target.
// Table names travel in hex so any byte survives the client's output.
func (e *Engine) inspect(ctx context.Context, staging, target string) (swapPlan, error) {
	s, t := sqlString(staging), sqlString(target)
	inStaging := "(SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + s + ")"
	out, err := e.query(ctx, "", "SELECT 'x', "+nonTablesSQL(s)+";\n"+
		"SELECT 'f', COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = "+t+
		" AND REFERENCED_TABLE_NAME IN "+inStaging+" AND NOT (CONSTRAINT_SCHEMA = "+t+" AND TABLE_NAME IN "+inStaging+");\n"+
		"SELECT 's', HEX(TABLE_NAME), TABLE_TYPE = 'VIEW' FROM information_schema.TABLES WHERE TABLE_SCHEMA = "+s+" ORDER BY TABLE_NAME;\n"+
		"SELECT 't', HEX(TABLE_NAME), TABLE_TYPE = 'VIEW' FROM information_schema.TABLES WHERE TABLE_SCHEMA = "+t+" ORDER BY TABLE_NAME;\n")
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
		case f[0] == "x" && len(f) == 2:
			p.nonTables, err = strconv.Atoi(f[1])
		case f[0] == "f" && len(f) == 2:
			p.referrers, err = strconv.Atoi(f[1])
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
		default:
			err = errors.New("unexpected line")
		}
		if err != nil {
			return swapPlan{}, fmt.Errorf("cannot read the client's answer %q: %v", line, err)
		}
	}
	if !seen["x"] || !seen["f"] {
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

// swapIn moves every table of the loaded staging database into target
// (created when missing) in one RENAME TABLE, then drops the tables it
// replaced (a failure to drop them is only written to log: the restore
// itself is done). It answers engine.ErrNeedsCheckedStream, having changed
// nothing, when the staging database holds what RENAME cannot move or a
// foreign key outside the backup points at a table it replaces.
func (e *Engine) swapIn(ctx context.Context, staging, target string, log io.Writer) error {
	p, err := e.inspect(ctx, staging, target)
	if err != nil {
		return fmt.Errorf("cannot inspect the staging database %s: %w", staging, err)
	}
	if p.nonTables > 0 {
		return fmt.Errorf("the backup holds %d views, triggers, routines or events, which cannot be swapped in: %w", p.nonTables, engine.ErrNeedsCheckedStream)
	}
	if p.referrers > 0 {
		return fmt.Errorf("%d foreign keys of tables outside the backup point at tables it replaces: %w", p.referrers, engine.ErrNeedsCheckedStream)
	}
	have := map[string]table{}
	for _, t := range p.existing {
		have[t.name] = t
	}
	loaded := p.loaded
	create := "CREATE DATABASE IF NOT EXISTS " + quoteIdent(target) + ";\n"
	if len(loaded) == 0 {
		if _, err := e.query(ctx, "", create); err != nil {
			return fmt.Errorf("cannot create it: %w", err)
		}
		return nil
	}
	id := randomID()
	var renames, drops []string
	tq, sq := quoteIdent(target), quoteIdent(staging)
	for i, t := range loaded {
		if old, ok := have[t.name]; ok {
			oldName := fmt.Sprintf("%s%s_%d", oldPrefix, id, i+1)
			renames = append(renames, tq+"."+quoteIdent(t.name)+" TO "+tq+"."+quoteIdent(oldName))
			kind := "TABLE"
			if old.view {
				kind = "VIEW"
			}
			drops = append(drops, "DROP "+kind+" IF EXISTS "+tq+"."+quoteIdent(oldName)+";")
		}
		renames = append(renames, sq+"."+quoteIdent(t.name)+" TO "+tq+"."+quoteIdent(t.name))
	}
	if _, err := e.query(ctx, "", create+"RENAME TABLE "+strings.Join(renames, ", ")); err != nil {
		return fmt.Errorf("cannot swap the restored tables in: %w", err)
	}
	// The backup is in; what is left is cleaning up, which goes on even if
	// the caller gives up now.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	if len(drops) > 0 {
		if _, err := e.query(dctx, "", "SET SESSION foreign_key_checks = 0;\n"+strings.Join(drops, "\n")); err != nil && log != nil {
			fmt.Fprintf(log, "restored, but cannot drop the replaced tables %s%s_* of %q (drop them by hand): %v\n", oldPrefix, id, target, err)
		}
	}
	return nil
}
