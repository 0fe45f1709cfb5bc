package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// tablesSQL fills database db with tables alone: InnoDB with a foreign
// key, auto-increment, non-ASCII text, binary and NULLs, and a MyISAM one.
func tablesSQL(db string, rows int) string {
	return strings.NewReplacer("{db}", db, "{rows}", itoa(rows)).Replace(`
CREATE DATABASE {db} CHARACTER SET utf8mb4;
USE {db};
CREATE TABLE customer (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, note text, photo blob, balance decimal(12,4)) ENGINE=InnoDB;
INSERT INTO customer (name, note, photo, balance)
SELECT CONCAT('Zoë ', seq, ' 東京'), IF(seq % 3 = 0, NULL, CONCAT('n', seq)), UNHEX(MD5(seq)), seq * 1.5 FROM seq_1_to_{rows};
CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int, total decimal(20,6),
  FOREIGN KEY (customer) REFERENCES customer (id)) ENGINE=InnoDB;
INSERT INTO orders (customer, total) SELECT (seq % 50) + 1, seq / 7 FROM seq_1_to_{rows};
CREATE TABLE notes (id int PRIMARY KEY, txt varchar(50)) ENGINE=MyISAM;
INSERT INTO notes VALUES (1, 'ä'), (2, NULL);
`)
}

func TestStagedRestoreSwapsTablesIn(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", tablesSQL("shop", 3000))
	want := m.Checksums(t, "shop")
	data, res, _ := backup(t, newEngine(m, "shop"))
	if !res.TablesOnly {
		t.Fatalf("a database of tables alone: Result.TablesOnly = false")
	}
	if newEngine(m, "shop").NeedsCheckedStream(res) {
		t.Fatal("NeedsCheckedStream of a tables-only backup = true")
	}
	// The target changed since, holds a table the backup lacks, a view
	// over a replaced table and a trigger on a replaced table: the backup
	// holds none of them, so none survives.
	m.SQL(t, "shop", `DELETE FROM orders WHERE id % 2 = 0; UPDATE customer SET name = 'x';
CREATE TABLE keep (i int); INSERT INTO keep VALUES (42);
CREATE VIEW rich AS SELECT COUNT(*) AS n FROM customer WHERE balance > 100;
CREATE TABLE audit (i int); CREATE TRIGGER c_audit AFTER UPDATE ON customer FOR EACH ROW INSERT INTO audit VALUES (1);`)
	restore(t, newEngine(m, "shop"), engine.RestoreSpec{Unchecked: true}, data)
	if d := testenv.DiffSums(want, m.Checksums(t, "shop")); len(d) > 0 {
		t.Errorf("restored database differs (tables made since must be gone):\n%s", strings.Join(d, "\n"))
	}
	if got := m.SQL(t, "", "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_type = 'VIEW';"+
		"SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'shop'"); got != "0\n0\n" {
		t.Errorf("views and triggers after the swap: %q, want none (the backup has none)", got)
	}
	if l := m.StagingLeftovers(t); l != "" {
		t.Errorf("left behind:\n%s", l)
	}
	// The foreign key moved with the tables.
	if _, err := m.Exec("shop", "INSERT INTO orders (customer, total) VALUES (999999, 1)"); err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Errorf("orders' foreign key after the swap: %v", err)
	}
	// Into a new database under another name.
	restore(t, newEngine(m, ""), engine.RestoreSpec{Database: "shop copy", Unchecked: true}, data)
	copied := map[string]testenv.TableSum{}
	for k, v := range m.Checksums(t, "shop copy") {
		copied[strings.Replace(k, "shop copy.", "shop.", 1)] = v
	}
	if d := testenv.DiffSums(want, copied); len(d) > 0 {
		t.Errorf("copy differs:\n%s", strings.Join(d, "\n"))
	}
}

// A stream that fails at any point, its very end included (the whole
// object's checksum is only known there), leaves the target as it was.
func TestStagedRestoreFailureLeavesTargetUnchanged(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", tablesSQL("shop", 3000))
	data, _, _ := backup(t, newEngine(m, "shop"))
	m.SQL(t, "shop", "DELETE FROM orders WHERE id % 2 = 0; UPDATE customer SET name = 'changed'")
	before := m.Checksums(t, "shop")
	for _, c := range []struct {
		name string
		r    io.Reader
		want string
	}{
		{"fails midway", io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(errors.New("frame 7 checksum mismatch"))), "frame 7 checksum mismatch"},
		{"fails at the end", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("stored object checksum mismatch"))), "stored object checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newEngine(m, "shop").Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, c.r)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if d := testenv.DiffSums(before, m.Checksums(t, "shop")); len(d) > 0 {
				t.Errorf("a failed restore changed the target:\n%s", strings.Join(d, "\n"))
			}
			if l := m.StagingLeftovers(t); l != "" {
				t.Errorf("left behind:\n%s", l)
			}
		})
	}
}

// What RENAME TABLE cannot swap in is refused with ErrNeedsCheckedStream,
// nothing changed, so that the caller restores from a checked stream.
func TestStagedRestoreRefusesWhatCannotBeSwapped(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", variedSQL("varied", 500)+tablesSQL("shop", 300))
	varied, vres, _ := backup(t, newEngine(m, "varied"))
	if vres.TablesOnly || !newEngine(m, "varied").NeedsCheckedStream(vres) {
		t.Fatalf("a database with a view, a trigger, a procedure and an event: TablesOnly %v", vres.TablesOnly)
	}
	all, ares, _ := backup(t, newEngine(m, ""))
	if ares.TablesOnly {
		t.Fatal("a backup of all databases: TablesOnly = true")
	}
	shop, _, _ := backup(t, newEngine(m, "shop"))
	// A table of another database holds a foreign key to one the backup
	// replaces.
	m.SQL(t, "", "CREATE DATABASE other; CREATE TABLE other.child (c int, FOREIGN KEY (c) REFERENCES shop.customer (id)) ENGINE=InnoDB; INSERT INTO other.child VALUES (1)")
	beforeVaried, beforeShop := m.Checksums(t, "varied"), m.Checksums(t, "shop")
	for _, c := range []struct {
		name, db string
		data     []byte
	}{
		{"views and triggers", "varied", varied},
		{"all databases", "", all},
		{"foreign key from another database", "shop", shop},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := newEngine(m, c.db).Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, bytes.NewReader(c.data))
			if !errors.Is(err, engine.ErrNeedsCheckedStream) {
				t.Fatalf("err = %v, want ErrNeedsCheckedStream", err)
			}
			if d := testenv.DiffSums(beforeVaried, m.Checksums(t, "varied")); len(d) > 0 {
				t.Errorf("varied changed:\n%s", strings.Join(d, "\n"))
			}
			if d := testenv.DiffSums(beforeShop, m.Checksums(t, "shop")); len(d) > 0 {
				t.Errorf("shop changed:\n%s", strings.Join(d, "\n"))
			}
			if l := m.StagingLeftovers(t); l != "" {
				t.Errorf("left behind:\n%s", l)
			}
		})
	}
	// The checked restore the caller falls back to drops and recreates
	// shop: the other database's key finds the restored table by its name.
	want := m.Checksums(t, "other")
	restore(t, newEngine(m, "shop"), engine.RestoreSpec{}, shop)
	if d := testenv.DiffSums(want, m.Checksums(t, "other")); len(d) > 0 {
		t.Errorf("other changed:\n%s", strings.Join(d, "\n"))
	}
	if _, err := m.Exec("", "INSERT INTO other.child VALUES (999999)"); err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Errorf("other.child's foreign key after the checked restore: %v", err)
	}
	if _, err := m.Exec("", "INSERT INTO other.child VALUES (2)"); err != nil {
		t.Errorf("other.child's foreign key does not see the restored customers: %v", err)
	}
}
