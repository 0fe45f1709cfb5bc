package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

func postgresWorld(t *testing.T, units int) (*world, *testenv.Postgres) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g")
	w := newWorld(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"}, units)
	return w, pg
}

func TestBackupAndRestorePostgres(t *testing.T) {
	w, pg := postgresWorld(t, 1)
	if st, msg := w.m.UnitStatus("agent/0"); st != "active" || msg != "idle" {
		t.Errorf("agent/0 status = %s %q, want active idle", st, msg)
	}
	want := pg.Checksums(t, "shop")
	w.request(w.backup("b1"))
	got := w.wait("b1")
	b1 := got["b1"]
	if b1.Status != dbbackup.Success || b1.ArtefactPath != "agent/b1/" {
		t.Fatalf("b1 = %+v", b1)
	}
	if b1.Storage.AccessKey != dbbackup.Mask || b1.Storage.SecretKey != dbbackup.Mask {
		t.Errorf("b1 storage-config not masked: %+v", b1.Storage)
	}
	pg.SQL(t, "shop", "DELETE FROM items WHERE id > 100")
	w.request(w.restore("r1", b1.ArtefactPath))
	if r1 := w.wait("r1")["r1"]; r1.Status != dbbackup.Success {
		t.Fatalf("r1 = %+v", r1)
	}
	if diff := testenv.DiffSums(want, pg.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("restored database differs: %v", diff)
	}
	w.request(w.restore("r2", "agent/nothing-here/"))
	if r2 := w.wait("r2")["r2"]; r2.Status != dbbackup.Error || !strings.Contains(r2.Message, "no complete backup") {
		t.Errorf("r2 = %+v, want error no complete backup", r2)
	}
	w.checkNoSecrets()
}

// TestStatusBlockedThenClears points the agent at a closed port: its status
// turns blocked with the reason, and clears by itself once the database
// answers again.
func TestStatusBlockedThenClears(t *testing.T) {
	w, pg := postgresWorld(t, 1)
	if err := w.m.Config(w.ctx, "agent", map[string]string{"port": "1"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("blocked status", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "blocked" && strings.HasPrefix(msg, "cannot connect to PostgreSQL at 127.0.0.1:1")
	})
	if err := w.m.Config(w.ctx, "agent", map[string]string{"port": fmt.Sprint(pg.Port)}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("active idle", func() bool {
		st, msg := w.m.UnitStatus("agent/0")
		return st == "active" && msg == "idle"
	})
	w.checkNoSecrets()
}
