package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// exactSQL makes a database of most kinds of objects, in public and in two
// schemas of its own, with a public schema whose ACL and comment differ
// from the server's default.
const exactSQL = `
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE TYPE s1.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN s2.positive AS int CHECK (VALUE > 0);
CREATE TABLE s1.item (id serial PRIMARY KEY, name text NOT NULL, mood s1.mood, qty s2.positive);
INSERT INTO s1.item (name, mood, qty) SELECT 'item ' || i, 'ok', i FROM generate_series(1, 200) i;
CREATE TABLE public.ledger (id bigint PRIMARY KEY, item int REFERENCES s1.item, amount numeric);
INSERT INTO public.ledger SELECT i, (i % 200) + 1, i * 1.5 FROM generate_series(1, 500) i;
CREATE INDEX ledger_amount ON public.ledger (amount);
CREATE VIEW s1.big AS SELECT * FROM s1.item WHERE qty > 100;
CREATE FUNCTION s2.double(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i * 2';
CREATE SEQUENCE s2.ticket START 100;
SELECT nextval('s2.ticket') FROM generate_series(1, 3);
CREATE TABLE s2.gone_later (k text PRIMARY KEY);
INSERT INTO s2.gone_later VALUES ('a'), ('b');
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
COMMENT ON SCHEMA public IS 'the shop''s own';
COMMENT ON TABLE s1.item IS 'what we sell';
SELECT lo_from_bytea(424242, 'a large object of the backup');
`

// mutateSQL changes the database in every way a person does after the
// backup: rows edited, deleted and inserted; objects created, dropped and
// altered, in the backup's schemas and in new ones.
const mutateSQL = `
UPDATE s1.item SET name = 'renamed' WHERE id < 50;
DELETE FROM public.ledger WHERE id > 400;
INSERT INTO s1.item (name, mood, qty) VALUES ('new', 'sad', 1);
CREATE TABLE s1.added (i int);
INSERT INTO s1.added VALUES (1);
CREATE SCHEMA s3;
CREATE VIEW s3.over_item AS SELECT id, name FROM s1.item;
CREATE TABLE public.extra (i int);
CREATE FUNCTION public.newer() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TYPE public.pair AS (a int, b int);
CREATE SEQUENCE s1.other;
DROP VIEW s1.big;
DROP FUNCTION s2.double(int);
ALTER TYPE s1.mood ADD VALUE 'glad';
ALTER TABLE s1.item ADD COLUMN note text;
ALTER TABLE public.ledger RENAME COLUMN amount TO total;
DROP INDEX public.ledger_amount;
ALTER SEQUENCE s2.ticket RESTART WITH 5000;
SELECT nextval('s2.ticket');
DROP SCHEMA s2 CASCADE;
CREATE SCHEMA s2;
CREATE TABLE s2.gone_later (k int);
GRANT ALL ON SCHEMA public TO PUBLIC;
COMMENT ON SCHEMA public IS 'changed';
COMMENT ON TABLE s1.item IS NULL;
SELECT lo_from_bytea(0, 'a large object made since');
SELECT lo_unlink(424242);
CREATE PUBLICATION everything FOR TABLE s1.item;
CREATE FOREIGN DATA WRAPPER nowhere;
CREATE SERVER far FOREIGN DATA WRAPPER nowhere;
`

// noDDLSQL makes an event trigger that refuses every DDL command.
const noDDLSQL = `
CREATE FUNCTION public.no_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'no DDL here'; END$$;
CREATE EVENT TRIGGER no_ddl ON ddl_command_start EXECUTE FUNCTION public.no_ddl();
`

func TestRestoreGivesBackTheBackup(t *testing.T) {
	p := sharedPostgres(t)
	p.SQL(t, "postgres", `CREATE DATABASE "exact"`)
	p.SQL(t, "exact", exactSQL)
	ext := availableExtensions(t, p, "citext", "hstore")
	if ext["citext"] {
		p.SQL(t, "exact", "CREATE EXTENSION citext; CREATE TABLE s1.tag (t citext PRIMARY KEY); INSERT INTO s1.tag VALUES ('Red')")
	}
	data, res, _ := backup(t, newEngine(p, "exact"))
	want := p.Dump(t, "exact")
	if !strings.Contains(want, "REVOKE USAGE ON SCHEMA public FROM PUBLIC") {
		t.Fatalf("the dump does not record the public schema's ACL:\n%s", want)
	}
	if postgres.New(connOf(p, "exact"), postgres.Options{}).NeedsCheckedStream(res) {
		t.Errorf("NeedsCheckedStream(%s) = true, want false", res.Format)
	}

	p.SQL(t, "exact", mutateSQL)
	if ext["citext"] {
		p.SQL(t, "exact", "DROP EXTENSION citext CASCADE")
	}
	if ext["hstore"] {
		p.SQL(t, "exact", "CREATE EXTENSION hstore; CREATE TABLE s1.h (h hstore)")
	}
	p.SQL(t, "exact", noDDLSQL)
	if p.Dump(t, "exact") == want {
		t.Fatal("the changes did not change the dump: the test would prove nothing")
	}
	restore(t, newEngine(p, "exact"), engine.RestoreSpec{Unchecked: true}, data)
	if got := p.Dump(t, "exact"); got != want {
		t.Errorf("the restored database differs from the backup:\n%s", dumpDiff(want, got))
	}
	if got := strings.TrimSpace(p.SQL(t, "exact", "SELECT string_agg(oid::text, ',') FROM pg_largeobject_metadata")); got != "424242" {
		t.Errorf("large objects %q after the restore, want the backup's 424242 alone", got)
	}
	if got := strings.TrimSpace(p.SQL(t, "exact", "SELECT (SELECT count(*) FROM pg_event_trigger) + (SELECT count(*) FROM pg_publication) + (SELECT count(*) FROM pg_foreign_server)")); got != "0" {
		t.Errorf("%s event triggers, publications or foreign servers made since the backup survived", got)
	}

	// Into a database of another name, made by the restore: the same.
	restore(t, newEngine(p, ""), engine.RestoreSpec{Database: "exact copy", Unchecked: true}, data)
	if got := p.Dump(t, "exact copy"); got != want {
		t.Errorf("the copy differs from the backup:\n%s", dumpDiff(want, got))
	}
}

func TestRestoreFailedStreamChangesNothing(t *testing.T) {
	p := sharedPostgres(t)
	p.SQL(t, "postgres", "CREATE DATABASE midway")
	p.SQL(t, "midway", exactSQL)
	data, _, _ := backup(t, newEngine(p, "midway"))
	p.SQL(t, "midway", mutateSQL)
	before := p.Dump(t, "midway")

	boom := errors.New("frame 39 checksum mismatch")
	for _, n := range []int{0, 100, len(data) / 3, len(data) / 2, len(data) - 1, len(data)} {
		t.Run(fmt.Sprintf("after %d of %d bytes", n, len(data)), func(t *testing.T) {
			for _, db := range []string{"midway", "midway new"} {
				r := io.MultiReader(bytes.NewReader(data[:n]), &failingReader{err: boom})
				_, err := newEngine(p, db).Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, r)
				if err == nil {
					t.Fatalf("restore into %s from a stream failing after %d bytes succeeded", db, n)
				}
				if n > 0 && !errors.Is(err, boom) && !strings.Contains(err.Error(), boom.Error()) {
					t.Errorf("restore into %s: got %v, want the stream's error", db, err)
				}
			}
			if got := p.Dump(t, "midway"); got != before {
				t.Errorf("a failed restore changed the database:\n%s", dumpDiff(before, got))
			}
			if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'midway new'")); got != "0" {
				t.Errorf("a failed restore left the database it created behind")
			}
		})
	}
}

func TestRestoreFailedLoadChangesNothing(t *testing.T) {
	p := sharedPostgres(t)
	p.SQL(t, "postgres", "CREATE ROLE auditor; CREATE DATABASE sqlfail")
	p.SQL(t, "sqlfail", exactSQL+"GRANT SELECT ON s1.item TO auditor;")
	data, _, _ := backup(t, newEngine(p, "sqlfail"))
	p.SQL(t, "sqlfail", mutateSQL+"REVOKE ALL ON s1.item FROM auditor;")
	// The backup's GRANT now names a role that is gone: the script fails
	// near its end, long after the prelude dropped everything.
	p.SQL(t, "postgres", "DROP ROLE auditor")
	before := p.Dump(t, "sqlfail")
	for _, db := range []string{"sqlfail", "sqlfail new"} {
		_, err := newEngine(p, db).Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, bytes.NewReader(data))
		if err == nil || !strings.Contains(err.Error(), `role "auditor" does not exist`) {
			t.Errorf("restore into %s: got %v, want the script's error", db, err)
		}
	}
	if got := p.Dump(t, "sqlfail"); got != before {
		t.Errorf("a failed restore changed the database:\n%s", dumpDiff(before, got))
	}
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'sqlfail new'")); got != "0" {
		t.Errorf("a failed restore left the database it created behind")
	}
}

// failingReader fails every read with err.
type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestNeedsCheckedStream(t *testing.T) {
	e := postgres.New(engine.Conn{}, postgres.Options{})
	for _, tt := range []struct {
		format string
		want   bool
	}{
		{postgres.FormatCustom, false},
		{postgres.FormatCluster, true},
		{"", true},
		{"mysql-sql", true},
	} {
		if got := e.NeedsCheckedStream(engine.Result{Kind: engine.PostgreSQL, Format: tt.format}); got != tt.want {
			t.Errorf("NeedsCheckedStream(format %q) = %v, want %v", tt.format, got, tt.want)
		}
	}
}

// availableExtensions reports which of names the server can install.
func availableExtensions(t *testing.T, p *testenv.Postgres, names ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, n := range names {
		got[n] = strings.TrimSpace(p.SQL(t, "postgres", "SELECT count(*) FROM pg_available_extensions WHERE name = '"+n+"'")) == "1"
		if !got[n] {
			t.Logf("extension %s is not installed: that part of the test is left out", n)
		}
	}
	return got
}

// dumpDiff lists the lines only one of two dumps has, at most 40.
func dumpDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if g[l] < w[l] {
			out = append(out, "- "+l)
			g[l]++
		}
	}
	g = count(got)
	for _, l := range strings.Split(got, "\n") {
		if w[l] < g[l] {
			out = append(out, "+ "+l)
			w[l]++
		}
	}
	if len(out) == 0 {
		return "(same lines in another order)"
	}
	return strings.Join(out[:min(len(out), 40)], "\n")
}

func TestRestoreAsDatabaseOwner(t *testing.T) {
	p := sharedPostgres(t)
	p.SQL(t, "postgres", "CREATE ROLE keeper LOGIN PASSWORD 'keeper-pw'; CREATE DATABASE kept OWNER keeper")
	p.SQL(t, "kept", "SET ROLE keeper;"+exactSQL)
	owner := connOf(p, "kept")
	owner.User, owner.Password = "keeper", "keeper-pw"
	e := postgres.New(owner, postgres.Options{BinDir: p.BinDir})
	data, _, _ := backup(t, e)
	want := p.Dump(t, "kept")

	// What the owner may do (foreign-data wrappers need a superuser).
	mutate := strings.Replace(mutateSQL, "CREATE FOREIGN DATA WRAPPER nowhere;\nCREATE SERVER far FOREIGN DATA WRAPPER nowhere;\n", "", 1)
	if mutate == mutateSQL {
		t.Fatal("mutateSQL changed: update the owner's subset")
	}
	p.SQL(t, "kept", "SET ROLE keeper;"+mutate)
	restore(t, e, engine.RestoreSpec{Unchecked: true}, data)
	if got := p.Dump(t, "kept"); got != want {
		t.Errorf("restored by the database's owner, the database differs from the backup:\n%s", dumpDiff(want, got))
	}
}
