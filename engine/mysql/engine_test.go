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
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// variedSQL fills database db with tables of many types: non-ASCII text,
// binary, dates, decimals, NULLs, auto-increment, a view, a trigger, a
// procedure and an event; rows scales the biggest table.
func variedSQL(db string, rows int) string {
	return strings.NewReplacer("{db}", db, "{rows}", itoa(rows)).Replace(`
CREATE DATABASE {db} CHARACTER SET utf8mb4;
USE {db};
CREATE TABLE customer (
  id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, note text, born date, seen datetime(6),
  balance decimal(12,4), photo blob, flag bit(3), kind enum('a','b','ü'), ratio double, doc json) ENGINE=InnoDB;
INSERT INTO customer (name, note, born, seen, balance, photo, flag, kind, ratio, doc)
SELECT CONCAT('Zoë ', seq, ' 東京 🚀'), IF(seq % 3 = 0, NULL, CONCAT('line\nbreak\ttab ''quote'' \\ back ', seq)),
       DATE '1970-01-01' + INTERVAL seq DAY, TIMESTAMP '2024-02-29 23:59:59.123456' + INTERVAL seq HOUR,
       seq * 1.2345, UNHEX(CONCAT(MD5(seq), '00FF')), seq % 8, ELT(seq % 3 + 1, 'a', 'b', 'ü'), seq / 7,
       JSON_OBJECT('i', seq, 'n', NULL)
FROM seq_1_to_{rows};
CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int, total decimal(20,6), placed date,
  FOREIGN KEY (customer) REFERENCES customer (id)) ENGINE=InnoDB AUTO_INCREMENT=1000;
INSERT INTO orders (customer, total, placed) SELECT (seq % 500) + 1, seq / 7, NULL FROM seq_1_to_2000;
DELETE FROM orders WHERE id > 2990;
CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, what varchar(20)) ENGINE=MyISAM;
CREATE TRIGGER order_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (what) VALUES ('order');
INSERT INTO orders (customer, total) VALUES (1, 0.5);
CREATE VIEW rich AS SELECT id, name FROM customer WHERE balance > 100;
CREATE PROCEDURE count_orders(OUT n int) SELECT COUNT(*) INTO n FROM orders;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit;
`)
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func connOf(m *testenv.MariaDB, db string) engine.Conn {
	return engine.Conn{Host: m.Host, Port: m.Port, User: m.User, Password: m.Password, Database: db}
}

func newEngine(m *testenv.MariaDB, db string) *mysql.Engine {
	return mysql.New(connOf(m, db), mysql.Options{})
}

func backup(t *testing.T, e *mysql.Engine) ([]byte, engine.Result, string) {
	t.Helper()
	var out, log bytes.Buffer
	var progress int64
	res, err := e.Backup(context.Background(), engine.BackupSpec{Log: &log, Progress: func(n int64) { progress = n }}, &out)
	if err != nil {
		t.Fatalf("Backup: %v\nlog:\n%s", err, log.String())
	}
	if res.Bytes != int64(out.Len()) || progress != res.Bytes {
		t.Errorf("Result.Bytes = %d, progress %d, want %d", res.Bytes, progress, out.Len())
	}
	if res.Kind != engine.MySQL || res.Method != engine.MethodLogical || res.Format != mysql.FormatSQL ||
		res.Tool != "mariadb-dump" || !strings.Contains(res.ToolVersion, "MariaDB") || !strings.Contains(res.ServerVersion, "MariaDB") {
		t.Errorf("Result = %+v", res)
	}
	return out.Bytes(), res, log.String()
}

func restore(t *testing.T, e *mysql.Engine, spec engine.RestoreSpec, data []byte) engine.Result {
	t.Helper()
	var log bytes.Buffer
	spec.Log = &log
	res, err := e.Restore(context.Background(), spec, io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("Restore: %v\nlog:\n%s", err, log.String())
	}
	if res.Bytes != int64(len(data)) || res.Tool != "mariadb" {
		t.Errorf("restore Result = %+v, want %d bytes read by mariadb", res, len(data))
	}
	return res
}

func TestRoundTripOneDatabase(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", variedSQL("shop", 20000))
	want := m.Checksums(t, "shop")
	if len(want) < 5 || want["shop.customer"].Rows != 20000 {
		t.Fatalf("test data not as planned: %v", want)
	}

	data, res, _ := backup(t, newEngine(m, "shop"))
	if strings.Join(res.Databases, ",") != "shop" {
		t.Errorf("Databases = %q, want [shop]", res.Databases)
	}
	m.SQL(t, "", "DROP DATABASE shop")
	restore(t, newEngine(m, "shop"), engine.RestoreSpec{}, data)
	if d := testenv.DiffSums(want, m.Checksums(t, "shop")); len(d) > 0 {
		t.Errorf("restored database differs:\n%s", strings.Join(d, "\n"))
	}
	if got := m.SQL(t, "shop", "CALL count_orders(@n); SELECT @n; SELECT COUNT(*) FROM information_schema.events WHERE event_schema = 'shop'"); got != "1992\n1\n" {
		t.Errorf("procedure and event after restore: got %q, want 1992 orders and 1 event", got)
	}

	// Over changed data: tables are replaced by the backup's.
	m.SQL(t, "shop", "DELETE FROM orders WHERE id > 1500; UPDATE customer SET note = 'x'")
	restore(t, newEngine(m, "shop"), engine.RestoreSpec{}, data)
	if d := testenv.DiffSums(want, m.Checksums(t, "shop")); len(d) > 0 {
		t.Errorf("restore over changed data differs:\n%s", strings.Join(d, "\n"))
	}
	// Under another name: a copy.
	restore(t, newEngine(m, ""), engine.RestoreSpec{Database: "shop copy"}, data)
	copied := map[string]testenv.TableSum{}
	for k, v := range m.Checksums(t, "shop copy") {
		copied[strings.Replace(k, "shop copy.", "shop.", 1)] = v
	}
	if d := testenv.DiffSums(want, copied); len(d) > 0 {
		t.Errorf("copy differs:\n%s", strings.Join(d, "\n"))
	}
}

func TestRoundTripAllDatabases(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", variedSQL("shop", 2000)+variedSQL("`crm db`", 500))
	want := m.Checksums(t, "")
	data, res, log := backup(t, newEngine(m, ""))
	if got := strings.Join(res.Databases, ","); got != "crm db,shop" {
		t.Errorf("Databases = %q, want [crm db shop]", got)
	}
	if strings.Contains(log, m.Password) {
		t.Errorf("password in the log")
	}
	m.SQL(t, "", "DROP DATABASE shop; DROP DATABASE `crm db`")
	rres := restore(t, newEngine(m, ""), engine.RestoreSpec{}, data)
	if got := strings.Join(rres.Databases, ","); got != "crm db,shop" {
		t.Errorf("restored Databases = %q, want [crm db shop]", got)
	}
	if d := testenv.DiffSums(want, m.Checksums(t, "")); len(d) > 0 {
		t.Errorf("restored databases differ:\n%s", strings.Join(d, "\n"))
	}
}

func TestRestoreStopsOnReadError(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", variedSQL("shop", 5000))
	data, _, _ := backup(t, newEngine(m, "shop"))
	m.SQL(t, "", "DROP DATABASE shop")
	// The reader fails just before the ";" that ends the first INSERT
	// into orders: a client that saw end of input would run that INSERT,
	// complete as it looks; a client killed first runs none of it.
	start := bytes.Index(data, []byte("INSERT INTO `orders`"))
	if start < 0 {
		t.Fatal("no INSERT INTO `orders` in the dump")
	}
	cut := start + bytes.Index(data[start:], []byte(");\n")) + 1
	r := io.MultiReader(bytes.NewReader(data[:cut]), iotest.ErrReader(errors.New("checksum mismatch")))
	_, err := newEngine(m, "shop").Restore(context.Background(), engine.RestoreSpec{}, r)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("got %v, want the read error", err)
	}
	// orders may exist or not (the kill may come before the client ran
	// what it was sent), but it holds no rows, and no view exists.
	if got, err := m.Exec("", "SELECT COUNT(*) FROM shop.orders"); err == nil && got != "0\n" {
		t.Errorf("got %q orders, want none: the client ran the truncated INSERT", got)
	} else if err != nil && !strings.Contains(err.Error(), "doesn't exist") {
		t.Fatal(err)
	}
	if got := m.SQL(t, "", "SELECT COUNT(*) FROM information_schema.views WHERE table_schema = 'shop'"); got != "0\n" {
		t.Errorf("got %q views, want none: the client went on after the read failed", got)
	}
}

func TestErrorsCarryToolMessage(t *testing.T) {
	m := testenv.StartMariaDB(t)
	ctx := context.Background()
	const weird = `CANARY p"a\ss w#rd;=`
	m.SQL(t, "", `CREATE USER 'weird'@'127.0.0.1' IDENTIFIED BY 'CANARY p"a\\ss w#rd;='; GRANT ALL ON *.* TO 'weird'@'127.0.0.1';
		CREATE DATABASE app; CREATE TABLE app.t (i int); INSERT INTO app.t VALUES (1)`)
	good := engine.Conn{Host: m.Host, Port: m.Port, User: "weird", Password: weird, Database: "app"}
	if err := mysql.New(good, mysql.Options{}).Check(ctx); err != nil {
		t.Fatalf("a password with quotes, backslash, '#', ';' and '=' does not get through the option file: %v", err)
	}

	bad := good
	bad.Password = weird + "x"
	e := mysql.New(bad, mysql.Options{})
	err := e.Check(ctx)
	want := "cannot connect to MariaDB/MySQL at " + bad.Addr() + ": ERROR 1045"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Check with a wrong password: got %v, want %q...", err, want)
	}
	var log bytes.Buffer
	_, berr := e.Backup(ctx, engine.BackupSpec{Log: &log}, io.Discard)
	down := good
	down.Port = 1
	err2 := mysql.New(down, mysql.Options{}).Check(ctx)
	if want := "cannot connect to MariaDB/MySQL at 127.0.0.1:1: ERROR 2002"; err2 == nil || !strings.HasPrefix(err2.Error(), want) {
		t.Errorf("Check of a closed port: got %v, want %q...", err2, want)
	}
	for _, s := range []string{err.Error(), berr.Error(), log.String()} {
		if strings.Contains(s, "CANARY") {
			t.Errorf("password leaked: %q", s)
		}
	}

	_, err = newEngine(m, "nope").Backup(ctx, engine.BackupSpec{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "Unknown database 'nope'") {
		t.Errorf("backup of a missing database: got %v, want the server's reason", err)
	}
	_, err = newEngine(m, "app").Restore(ctx, engine.RestoreSpec{}, strings.NewReader("-- dbbackup mysql-sql-v1 scope=database\nSELEC oops;\n"))
	if err == nil || !strings.Contains(err.Error(), "mariadb exited with status 1: ERROR 1064") {
		t.Errorf("restore of bad SQL: got %v, want the client's ERROR 1064", err)
	}
	_, err = newEngine(m, "app").Restore(ctx, engine.RestoreSpec{}, strings.NewReader("DROP DATABASE app;\n"))
	if err == nil || !strings.Contains(err.Error(), "not a mysql-sql-v1 backup") {
		t.Errorf("restore of foreign SQL: got %v", err)
	}
	_, err = newEngine(m, "").Restore(ctx, engine.RestoreSpec{Method: engine.Method("physical")}, strings.NewReader(""))
	if !errors.Is(err, engine.ErrUnsupportedMethod) {
		t.Errorf("physical restore: got %v, want ErrUnsupportedMethod", err)
	}
}
