package testenv

import (
	"strings"
	"testing"
)

func TestStartMariaDB(t *testing.T) {
	m := StartMariaDB(t)
	if got := strings.TrimSpace(m.SQL(t, "", "SELECT current_user()")); got != "root@127.0.0.1" {
		t.Errorf("current_user() = %q, want root@127.0.0.1", got)
	}
	m.SQL(t, "", `CREATE DATABASE shop; CREATE TABLE shop.a (id int AUTO_INCREMENT PRIMARY KEY, s text);
		INSERT INTO shop.a (s) VALUES ('ü'), (NULL);`)
	sums := m.Checksums(t, "shop")
	if sums["shop.a"].Rows != 2 || sums["shop.a"].Sum == "" || sums["auto_increment shop.a"].Sum != "3" {
		t.Errorf("got sums %v", sums)
	}
	m.SQL(t, "shop", "UPDATE a SET s = 'x' WHERE s IS NULL")
	if d := DiffSums(sums, m.Checksums(t, "")); len(d) != 1 || !strings.HasPrefix(d[0], "shop.a:") {
		t.Errorf("DiffSums after an update = %q, want one difference in shop.a", d)
	}
	if got := strings.TrimSpace(m.SQL(t, "", "SELECT @@log_bin")); got != "0" {
		t.Errorf("log_bin = %s, want 0 by default", got)
	}
	if got := m.Databases(t); strings.Join(got, ",") != "shop" {
		t.Errorf("Databases = %q, want [shop]", got)
	}
	// Password authentication is on over TCP.
	wrong := *m
	wrong.Dir = t.TempDir()
	if _, err := wrong.Exec("", "SELECT 1"); err == nil {
		t.Errorf("a client without the password got in")
	}
}

func TestStartMariaDBWithBinlog(t *testing.T) {
	m := StartMariaDBWith(t, MariaDBOptions{Binlog: true})
	if got := strings.Fields(m.SQL(t, "", "SELECT @@log_bin, @@binlog_format, @@server_id")); strings.Join(got, " ") != "1 ROW 1" {
		t.Errorf("log_bin, binlog_format, server_id = %q, want 1 ROW 1", got)
	}
	if got := m.SQL(t, "", "SHOW MASTER STATUS"); !strings.HasPrefix(got, "mariadb-bin.") {
		t.Errorf("SHOW MASTER STATUS = %q, want a mariadb-bin.NNNNNN file", got)
	}
}
