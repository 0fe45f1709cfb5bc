package mysql_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// grantsOf returns the sorted SHOW GRANTS lines of account.
func grantsOf(t *testing.T, m *testenv.MariaDB, account string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(m.SQL(t, "", "SHOW GRANTS FOR "+account)), "\n")
	slices.Sort(lines)
	return lines
}

// A backup of all databases carries the accounts, roles and grants (not
// root's, nor its own account's): a dropped user and role come back with
// the same grants, password hash and default role, and an account the
// server still has keeps its current password.
func TestAllDatabasesCarryAccounts(t *testing.T) {
	m := testenv.StartMariaDB(t)
	const canary = "app-password-canary-7f3a"
	m.SQL(t, "", `CREATE DATABASE shop; CREATE TABLE shop.items (id int primary key);
CREATE ROLE reader; GRANT SELECT ON shop.* TO reader;
CREATE USER 'app'@'%' IDENTIFIED BY '`+canary+`'; GRANT INSERT, UPDATE ON shop.items TO 'app'@'%';
GRANT reader TO 'app'@'%'; SET DEFAULT ROLE reader FOR 'app'@'%';
CREATE USER 'keep'@'localhost' IDENTIFIED BY 'old-password';`)
	wantApp, wantRole := grantsOf(t, m, "'app'@'%'"), grantsOf(t, m, "reader")
	hash := func(user string) string {
		return m.SQL(t, "", "SELECT authentication_string FROM mysql.global_priv JOIN mysql.user USING (User, Host) WHERE User = '"+user+"'")
	}
	appHash := hash("app")

	data, _, log := backup(t, newEngine(m, ""))
	text := string(data)
	for _, want := range []string{"CREATE ROLE IF NOT EXISTS `reader`;", "CREATE USER IF NOT EXISTS `app`@`%`", "CREATE USER IF NOT EXISTS `keep`@`localhost`", "SET DEFAULT ROLE `reader` FOR `app`@`%`"} {
		if !strings.Contains(text, want) {
			t.Errorf("the backup lacks %q; its accounts section:\n%s", want, text[strings.Index(text, "-- dbbackup: accounts"):])
		}
	}
	if strings.Contains(text, canary) || strings.Contains(log, canary) {
		t.Errorf("a password appears in the backup or its log")
	}
	for _, never := range []string{"`root`@", "`mariadb.sys`@", "`" + m.User + "`@"} {
		if strings.Contains(text, "CREATE USER IF NOT EXISTS "+never) {
			t.Errorf("the backup recreates %s", never)
		}
	}

	m.SQL(t, "", "DROP USER 'app'@'%'; DROP ROLE reader; DROP DATABASE shop; ALTER USER 'keep'@'localhost' IDENTIFIED BY 'new-password'")
	keepHash := hash("keep")
	restore(t, newEngine(m, ""), engine.RestoreSpec{}, data)
	if got := grantsOf(t, m, "'app'@'%'"); !slices.Equal(got, wantApp) {
		t.Errorf("app's grants after restore:\n%v\nwant:\n%v", got, wantApp)
	}
	if got := grantsOf(t, m, "reader"); !slices.Equal(got, wantRole) {
		t.Errorf("reader's grants after restore:\n%v\nwant:\n%v", got, wantRole)
	}
	if got := hash("app"); got != appHash {
		t.Errorf("app's password hash %q after restore, want %q", got, appHash)
	}
	if got := hash("keep"); got != keepHash {
		t.Errorf("the restore changed the password of an account the server has: %q, want %q", got, keepHash)
	}
	if got := m.SQL(t, "", "SELECT default_role FROM mysql.user WHERE User = 'app'"); strings.TrimSpace(got) != "reader" {
		t.Errorf("app's default role after restore: %q", got)
	}
}

// An account that may read mysql.user but not create users (so could not
// restore them) still backs up every database; the backup and its log say
// the accounts are not in it.
func TestAccountsUnreadableKeepTheBackup(t *testing.T) {
	m := testenv.StartMariaDB(t)
	m.SQL(t, "", `CREATE DATABASE shop; CREATE TABLE shop.items (id int primary key); INSERT INTO shop.items VALUES (1);
CREATE USER 'limited'@'%' IDENTIFIED BY 'limited-pw'; GRANT SELECT, SHOW VIEW, LOCK TABLES, EVENT, TRIGGER ON *.* TO 'limited'@'%';`)
	conn := connOf(m, "")
	conn.User, conn.Password = "limited", "limited-pw"
	data, res, log := backup(t, mysql.New(conn, mysql.Options{}))
	if strings.Join(res.Databases, ",") != "shop" {
		t.Errorf("Databases = %v", res.Databases)
	}
	if !strings.Contains(log, "accounts and grants not backed up: the backup's account lacks the global CREATE USER privilege") || !strings.Contains(string(data), "-- accounts and grants not backed up") {
		t.Errorf("neither the log nor the backup says the accounts are missing; log:\n%s", log)
	}
	if strings.Contains(string(data), "limited-pw") || strings.Contains(log, "limited-pw") {
		t.Errorf("the password appears in the backup or its log")
	}
}
