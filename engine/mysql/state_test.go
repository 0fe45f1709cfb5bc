package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// changeVaried changes a database made by variedSQL in every way a person
// does after a backup: rows edited, deleted and inserted; tables created,
// dropped and altered; views, triggers, routines and events created and
// dropped.
const changeVaried = `
UPDATE customer SET name = 'edited' WHERE id <= 10;
DELETE FROM orders WHERE id % 3 = 0;
INSERT INTO customer (name) VALUES ('added');
CREATE TABLE later (i int PRIMARY KEY, c int, FOREIGN KEY (c) REFERENCES customer (id)) ENGINE=InnoDB;
INSERT INTO later VALUES (1, 1);
DROP TABLE audit;
DROP VIEW rich;
ALTER TABLE customer ADD COLUMN extra int DEFAULT 7, DROP COLUMN note;
CREATE VIEW later_v AS SELECT i FROM later;
CREATE TRIGGER later_t BEFORE INSERT ON later FOR EACH ROW SET NEW.i = NEW.i + 1;
DROP TRIGGER order_audit;
CREATE TRIGGER order_check BEFORE UPDATE ON orders FOR EACH ROW SET NEW.total = NEW.total;
DROP PROCEDURE count_orders;
CREATE PROCEDURE later_p() SELECT 1;
CREATE FUNCTION later_f() RETURNS int DETERMINISTIC RETURN 1;
DROP EVENT nightly;
CREATE EVENT later_e ON SCHEDULE EVERY 1 HOUR DISABLE DO SELECT 1;
`

// changeTables does the same to a database made by tablesSQL, which holds
// tables alone: a view takes the name of a dropped table, a table made
// since holds a foreign key to one the backup replaces, and a package
// (Oracle mode) joins the routines.
const changeTables = `
UPDATE customer SET name = 'edited' WHERE id <= 10;
DELETE FROM orders WHERE id % 3 = 0;
INSERT INTO customer (name) VALUES ('added');
DROP TABLE notes;
CREATE VIEW notes AS SELECT 1 AS x;
ALTER TABLE customer ADD COLUMN extra int DEFAULT 7, DROP COLUMN note;
CREATE TABLE later (i int PRIMARY KEY, c int, FOREIGN KEY (c) REFERENCES customer (id)) ENGINE=InnoDB;
INSERT INTO later VALUES (1, 1);
CREATE VIEW later_v AS SELECT i FROM later;
CREATE TRIGGER later_t BEFORE INSERT ON customer FOR EACH ROW SET NEW.name = UPPER(NEW.name);
CREATE PROCEDURE later_p() SELECT 1;
CREATE FUNCTION later_f() RETURNS int DETERMINISTIC RETURN 1;
CREATE EVENT later_e ON SCHEDULE EVERY 1 HOUR DISABLE DO SELECT 1;
SET SESSION sql_mode = 'ORACLE';
DELIMITER $$
CREATE PACKAGE later_pkg AS FUNCTION f RETURN INT; END; $$
CREATE PACKAGE BODY later_pkg AS FUNCTION f RETURN INT AS BEGIN RETURN 1; END; END; $$
DELIMITER ;
SET SESSION sql_mode = DEFAULT;
`

// A restore gives back the state the backup recorded, whatever happened
// since, for every shape of backup and both restore paths; compared by
// mariadb-dump. One server for all of it.
func TestRestoreGivesBackTheBackupsState(t *testing.T) {
	m := testenv.StartMariaDB(t)
	ctx := context.Background()
	// Each part starts from a server without its databases and accounts,
	// even when one before it failed.
	clean := func(t *testing.T, sql string) { t.Cleanup(func() { _, _ = m.Exec("", sql) }) }

	t.Run("all databases", func(t *testing.T) {
		clean(t, "DROP DATABASE IF EXISTS alpha; DROP DATABASE IF EXISTS `beta ü`; DROP DATABASE IF EXISTS gamma; DROP USER IF EXISTS 'app'@'127.0.0.1'")
		m.SQL(t, "", variedSQL("alpha", 500)+tablesSQL("`beta ü`", 100)+`
CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; GRANT SELECT, INSERT ON alpha.* TO 'app'@'127.0.0.1';`)
		data, res, _ := backup(t, newEngine(m, ""))
		if strings.Join(res.Databases, ",") != "alpha,beta ü" {
			t.Fatalf("Databases = %q", res.Databases)
		}
		want := m.DumpAll(t)
		mustHold(t, want, append(variedPieces, "==== database beta ü", "GRANT SELECT, INSERT ON `alpha`.* TO `app`@`127.0.0.1`")...)
		m.SQL(t, "alpha", changeVaried)
		m.SQL(t, "", "DROP DATABASE `beta ü`; CREATE DATABASE gamma; CREATE TABLE gamma.t (i int); INSERT INTO gamma.t VALUES (3)")
		gamma := m.Dump(t, "gamma")
		mustHold(t, gamma, "INSERT INTO `t` VALUES")
		restore(t, newEngine(m, ""), engine.RestoreSpec{}, data)
		if got := m.Dump(t, "gamma"); got != gamma {
			t.Errorf("gamma, not in the backup, changed:\n%s", diffLines(gamma, got))
		}
		m.SQL(t, "", "DROP DATABASE gamma")
		if dbs := m.SQL(t, "", "SHOW DATABASES WHERE `Database` NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"); dbs != "alpha\nbeta ü\n" {
			t.Errorf("databases after the restore: %q, want [alpha, beta ü]", dbs)
		}
		if got := m.DumpAll(t); got != want {
			t.Errorf("restored server differs from the backup:\n%s", diffLines(want, got))
		}
	})

	t.Run("one database checked", func(t *testing.T) {
		const name = "shop `x` ü" // a name that needs quoting, not ASCII
		clean(t, "DROP DATABASE IF EXISTS `shop ``x`` ü`; DROP USER IF EXISTS 'reader'@'127.0.0.1'")
		m.SQL(t, "", variedSQL("`shop ``x`` ü`", 500)+`
ALTER DATABASE `+"`shop ``x`` ü`"+` COLLATE utf8mb4_unicode_ci COMMENT 'the shop''s ü';
CREATE USER 'reader'@'127.0.0.1'; GRANT SELECT ON `+"`shop ``x`` ü`"+`.* TO 'reader'@'127.0.0.1';`)
		data, res, _ := backup(t, newEngine(m, name))
		if res.TablesOnly {
			t.Fatal("a database with views etc.: TablesOnly = true")
		}
		want, wantDB, wantGrants := m.Dump(t, name), m.SQL(t, "", "SHOW CREATE DATABASE `shop ``x`` ü`"), m.SQL(t, "", "SHOW GRANTS FOR 'reader'@'127.0.0.1'")
		mustHold(t, want, variedPieces...)
		m.SQL(t, name, changeVaried)
		restore(t, newEngine(m, name), engine.RestoreSpec{}, data)
		if got := m.Dump(t, name); got != want {
			t.Errorf("restored database differs from the backup:\n%s", diffLines(want, got))
		}
		if got := m.SQL(t, "", "SHOW CREATE DATABASE `shop ``x`` ü`"); got != wantDB {
			t.Errorf("database definition: got %q, want %q", got, wantDB)
		}
		if got := m.SQL(t, "", "SHOW GRANTS FOR 'reader'@'127.0.0.1'"); got != wantGrants {
			t.Errorf("grants: got %q, want %q", got, wantGrants)
		}
	})

	for _, unchecked := range []bool{true, false} {
		name := "one database of tables checked"
		if unchecked {
			name = "one database of tables staged"
		}
		t.Run(name, func(t *testing.T) {
			clean(t, "DROP DATABASE IF EXISTS store")
			m.SQL(t, "", tablesSQL("store", 300))
			data, res, _ := backup(t, newEngine(m, "store"))
			if !res.TablesOnly {
				t.Fatal("a database of tables alone: TablesOnly = false")
			}
			want := m.Dump(t, "store")
			mustHold(t, want, tablesPieces...)
			m.SQL(t, "store", changeTables)
			restore(t, newEngine(m, "store"), engine.RestoreSpec{Unchecked: unchecked}, data)
			if got := m.Dump(t, "store"); got != want {
				t.Errorf("restored database differs from the backup:\n%s", diffLines(want, got))
			}
			if got := m.SQL(t, "", "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'store'"); got != "0\n" {
				t.Errorf("%q routines left, want none: the backup has none", got)
			}
			if l := m.StagingLeftovers(t); l != "" {
				t.Errorf("left behind:\n%s", l)
			}
		})
	}

	t.Run("refusal leaves no database behind", func(t *testing.T) {
		clean(t, "DROP DATABASE IF EXISTS src; DROP DATABASE IF EXISTS fresh_staged; DROP DATABASE IF EXISTS fresh_checked; DROP DATABASE IF EXISTS fresh_all")
		m.SQL(t, "", tablesSQL("src", 2000))
		data, _, _ := backup(t, newEngine(m, "src"))
		bad := "-- dbbackup mysql-sql-v1 scope=database\nCREATE TABLE t (i int);\nINSERT INTO t VALUES (1);\nSELEC oops;\n"
		badAll := "-- dbbackup mysql-sql-v1 scope=all\n-- Current Database: `fresh_all`\nCREATE DATABASE `fresh_all`;\nUSE `fresh_all`;\n" +
			"CREATE TABLE t (i int);\nSELEC oops;\n"
		for _, c := range []struct {
			name, db  string
			unchecked bool
			r         io.Reader
			want      string
		}{
			{"staged, stream fails midway", "fresh_staged", true,
				io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(errors.New("frame 3 checksum mismatch"))), "frame 3 checksum mismatch"},
			{"checked, client fails", "fresh_checked", false, strings.NewReader(bad), "ERROR 1064"},
			{"all databases, client fails", "fresh_all", false, strings.NewReader(badAll), "ERROR 1064"},
		} {
			t.Run(c.name, func(t *testing.T) {
				target := c.db
				if c.db == "fresh_all" {
					target = ""
				}
				_, err := newEngine(m, target).Restore(ctx, engine.RestoreSpec{Unchecked: c.unchecked}, c.r)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want %q", err, c.want)
				}
				if dbs := m.Databases(t); slices.Contains(dbs, c.db) {
					t.Errorf("the refused restore left database %s behind: %q", c.db, dbs)
				}
				if l := m.StagingLeftovers(t); l != "" {
					t.Errorf("left behind:\n%s", l)
				}
			})
		}
		if dbs := m.Databases(t); !slices.Equal(dbs, []string{"src"}) {
			t.Errorf("databases after the refusals: %q, want [src]", dbs)
		}
	})
}

// mustHold fails the test unless dump holds every piece: a comparison of
// dumps that hold nothing proves nothing.
func mustHold(t *testing.T, dump string, pieces ...string) {
	t.Helper()
	for _, p := range pieces {
		if !strings.Contains(dump, p) {
			t.Fatalf("the dump lacks %q", p)
		}
	}
}

var (
	variedPieces = []string{"CREATE TABLE `customer`", "INSERT INTO `customer`", "INSERT INTO `orders`", "VIEW `rich`",
		"TRIGGER order_audit ", "PROCEDURE `count_orders`", "EVENT `nightly`"}
	tablesPieces = []string{"CREATE TABLE `customer`", "INSERT INTO `orders`", "CREATE TABLE `notes`"}
)

// diffLines lists the lines of want missing from got and those of got not
// in want, at most 40.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	if len(out) == 0 {
		out = append(out, "(the same lines in another order)")
	}
	if len(out) > 40 {
		out = append(out[:40], "...")
	}
	return strings.Join(out, "\n")
}
