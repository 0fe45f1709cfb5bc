package main

import (
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestRelatedPostgres gets its credentials from a postgresql_client
// provider (the test database charm) through a secret-user secret, with no
// manual credentials, and backs up and restores.
func TestRelatedPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE items (id int primary key); INSERT INTO items SELECT generate_series(1, 50)")
	w := newWorldWith(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"},
		worldOptions{units: 1, related: true})
	if st, msg := w.m.UnitStatus("agent/0"); st != "active" || msg != "idle" {
		t.Fatalf("agent/0 = %s %q, want active idle", st, msg)
	}
	checkRequest(t, w, "shop", "superuser")
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Success {
		t.Fatalf("b1 = %+v", b1)
	}
	pg.SQL(t, "shop", "DELETE FROM items")
	w.request(w.restore("r1", "agent/b1/"))
	if r1 := w.wait("r1")["r1"]; r1.Status != dbbackup.Success {
		t.Fatalf("r1 = %+v", r1)
	}
	if n := strings.TrimSpace(pg.SQL(t, "shop", "SELECT count(*) FROM items")); n != "50" {
		t.Errorf("restored %s rows, want 50", n)
	}
	w.checkNoSecrets()
}

// TestRelatedMariaDB gets its credentials from a mysql_client provider that
// answers them in its databag (no Juju secrets) and backs up.
func TestRelatedMariaDB(t *testing.T) {
	my := testenv.StartMariaDB(t)
	my.SQL(t, "", "CREATE DATABASE shop")
	my.SQL(t, "shop", "CREATE TABLE items (id int primary key); INSERT INTO items VALUES (1), (2)")
	w := newWorldWith(t, dbServer{engine: "mysql", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: "shop"},
		worldOptions{units: 1, related: true, noSecrets: true})
	checkRequest(t, w, "shop", "charmed_dba")
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Success {
		t.Fatalf("b1 = %+v", b1)
	}
	my.SQL(t, "shop", "DELETE FROM items")
	w.request(w.restore("r1", "agent/b1/"))
	if r1 := w.wait("r1")["r1"]; r1.Status != dbbackup.Success {
		t.Fatalf("r1 = %+v", r1)
	}
	if n := strings.TrimSpace(my.SQL(t, "shop", "SELECT COUNT(*) FROM items")); n != "2" {
		t.Errorf("restored %s rows, want 2", n)
	}
	w.checkNoSecrets()
}

// checkRequest checks what the agent's leader asked of the database charm:
// the database, the extra-user-roles (roles the real charm accepts: the
// test charm refuses others as Charmed PostgreSQL's create_user and
// Charmed MySQL's create_scoped_user do) and the fields to get as secrets.
func checkRequest(t *testing.T, w *world, db, roles string) {
	t.Helper()
	got := w.m.RelationData(w.dbRel, "agent")
	want := map[string]string{"database": db, "extra-user-roles": roles, "requested-secrets": `["username","password"]`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("agent asked %s=%q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// TestRelatedMariaDBAll backs up every database with the account the
// mysql_client provider gives for charmed_dba and restores it.
func TestRelatedMariaDBAll(t *testing.T) {
	my := testenv.StartMariaDB(t)
	my.SQL(t, "", "CREATE DATABASE shop; CREATE DATABASE crm")
	my.SQL(t, "shop", "CREATE TABLE items (id int primary key); INSERT INTO items VALUES (1), (2)")
	my.SQL(t, "crm", "CREATE TABLE people (id int primary key); INSERT INTO people VALUES (7)")
	w := newWorldWith(t, dbServer{engine: "mysql", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: ""},
		worldOptions{units: 1, related: true, noSecrets: true})
	checkRequest(t, w, "agent", "charmed_dba")
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Success {
		t.Fatalf("b1 = %+v", b1)
	}
	my.SQL(t, "shop", "DELETE FROM items")
	my.SQL(t, "", "DROP DATABASE crm")
	w.request(w.restore("r1", "agent/b1/"))
	if r1 := w.wait("r1")["r1"]; r1.Status != dbbackup.Success {
		t.Fatalf("r1 = %+v", r1)
	}
	if n := strings.TrimSpace(my.SQL(t, "shop", "SELECT COUNT(*) FROM items")); n != "2" {
		t.Errorf("restored %s items, want 2", n)
	}
	if n := strings.TrimSpace(my.SQL(t, "crm", "SELECT COUNT(*) FROM people")); n != "1" {
		t.Errorf("restored %s people, want 1", n)
	}
	w.checkNoSecrets()
}
