package main

import (
	"os"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestStatusBlockedOnMissingTools takes the MariaDB tools away from the
// charm's PATH (there is no charmed-mysql snap here): the unit blocks,
// naming the tools it cannot find and what to install, a backup fails
// instead of running; with the tools back the unit clears and backs up.
func TestStatusBlockedOnMissingTools(t *testing.T) {
	my := testenv.StartMariaDB(t)
	my.SQL(t, "", "CREATE DATABASE shop")
	w := newWorldWith(t, dbServer{engine: "mysql", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: "shop"},
		worldOptions{units: 1})
	path := os.Getenv("PATH")
	t.Setenv("PATH", t.TempDir()) // hooks get jujusim's tools and this
	if err := w.m.Config(w.ctx, "agent", map[string]string{"max-backups-per-unit": "3"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("blocked on tools", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "blocked" && strings.Contains(msg, "cannot find mariadb-dump or mysqldump, mariadb or mysql") &&
			strings.Contains(msg, "install mariadb-client")
	})
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Error {
		t.Errorf("b1 without tools = %+v, want error", b1)
	}
	t.Setenv("PATH", path)
	if err := w.m.Config(w.ctx, "agent", map[string]string{"max-backups-per-unit": "4"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("active idle", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "active" && msg == "idle"
	})
	w.request(w.backup("b1"), w.backup("b2"))
	if b2 := w.wait("b2")["b2"]; b2.Status != dbbackup.Success {
		t.Errorf("b2 with tools = %+v, want success", b2)
	}
	w.checkNoSecrets()
}
