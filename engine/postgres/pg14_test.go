package postgres_test

import (
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestRestoreAsDatabaseOwnerOn14: on PostgreSQL 14, whose initdb gives the
// public schema to the bootstrap superuser, the owner of a database (no
// superuser) to whom that schema was given restores the database. The
// restore cannot give the schema back to the superuser as on a fresh 14
// database, nor keep its owner (pg_restore --no-owner): it gives it to
// pg_database_owner, of which the database's owner is a member. Less that
// owner, set back by hand, the database is the backup's.
func TestRestoreAsDatabaseOwnerOn14(t *testing.T) {
	p := testenv.StartPostgresAt(t, testenv.Postgres14BinDir())
	p.SQL(t, "postgres", "CREATE ROLE keeper LOGIN PASSWORD 'keeper-pw'; CREATE DATABASE kept OWNER keeper")
	p.SQL(t, "kept", "ALTER SCHEMA public OWNER TO keeper")
	p.SQL(t, "kept", "SET ROLE keeper;"+exactSQL)
	owner := connOf(p, "kept")
	owner.User, owner.Password = "keeper", "keeper-pw"
	e := postgres.New(owner, postgres.Options{BinDir: p.BinDir})
	data, res, _ := backup(t, e)
	if res.ServerVersion[:3] != "14." {
		t.Fatalf("backed up a %s server, want 14", res.ServerVersion)
	}
	want := p.Dump(t, "kept")

	p.SQL(t, "kept", "SET ROLE keeper; UPDATE s1.item SET name = 'x'; CREATE TABLE public.since (i int);")
	restore(t, e, engine.RestoreSpec{Unchecked: true}, data)
	p.SQL(t, "kept", "ALTER SCHEMA public OWNER TO keeper")
	if got := p.Dump(t, "kept"); got != want {
		t.Errorf("restored by the database's owner, the database differs from the backup:\n%s", dumpDiff(want, got))
	}
}
