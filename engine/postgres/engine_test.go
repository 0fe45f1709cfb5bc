package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// variedSQL makes tables of many types in two schemas: non-ASCII text,
// binary, dates, decimals, NULLs, identities and a free sequence.
const variedSQL = `
CREATE SCHEMA shop;
CREATE TABLE shop.customer (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL, note text, born date, seen timestamptz, balance numeric(12,4), photo bytea, tags text[], meta jsonb);
INSERT INTO shop.customer (name, note, born, seen, balance, photo, tags, meta)
SELECT 'Zoë ' || i || ' 東京 🚀', CASE WHEN i % 3 = 0 THEN NULL ELSE E'line\nbreak\ttab ''quote'' \\ back' END,
       date '1970-01-01' + i, timestamptz '2024-02-29 23:59:59.123456+00' + i * interval '1 hour',
       (i * 1.2345)::numeric(12,4), decode(md5(i::text), 'hex') || '\x00ff'::bytea,
       ARRAY['a', NULL, 'ü'], jsonb_build_object('i', i, 'n', NULL)
FROM generate_series(1, 500) i;
CREATE TABLE public.orders (id serial PRIMARY KEY, customer bigint REFERENCES shop.customer, total numeric, placed date);
INSERT INTO public.orders (customer, total, placed) SELECT (i % 500) + 1, i / 7.0, NULL FROM generate_series(1, 2000) i;
CREATE SEQUENCE shop.invoice_no START 1000;
SELECT nextval('shop.invoice_no') FROM generate_series(1, 5);
CREATE VIEW shop.rich AS SELECT * FROM shop.customer WHERE balance > 100;
`

func connOf(p *testenv.Postgres, db string) engine.Conn {
	return engine.Conn{Host: p.Host, Port: p.Port, User: p.User, Password: p.Password, Database: db}
}

func newEngine(p *testenv.Postgres, db string) *postgres.Engine {
	return postgres.New(connOf(p, db), postgres.Options{BinDir: p.BinDir})
}

// backup runs Backup and checks what every backup must report.
func backup(t *testing.T, e *postgres.Engine) ([]byte, engine.Result, string) {
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
	if res.Kind != engine.PostgreSQL || res.Method != engine.MethodLogical || res.Tool != "pg_dump" ||
		!strings.Contains(res.ToolVersion, "PostgreSQL") || res.ServerVersion == "" {
		t.Errorf("Result = %+v", res)
	}
	return out.Bytes(), res, log.String()
}

func restore(t *testing.T, e *postgres.Engine, spec engine.RestoreSpec, data []byte) engine.Result {
	t.Helper()
	var log bytes.Buffer
	spec.Log = &log
	// OneByteReader-like slow feeding is not needed; a plain reader keeps
	// the stdin pipe path (not a file) under test.
	res, err := e.Restore(context.Background(), spec, io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("Restore: %v\nlog:\n%s", err, log.String())
	}
	if res.Bytes != int64(len(data)) {
		t.Errorf("restore read %d bytes, want %d", res.Bytes, len(data))
	}
	return res
}

func TestRoundTripOneDatabase(t *testing.T) {
	p := sharedPostgres(t)
	p.Pgbench(t, "app", 1)
	p.SQL(t, "app", variedSQL)
	want := p.Checksums(t, "app")
	if len(want) < 8 {
		t.Fatalf("only %d tables and sequences to compare: %v", len(want), want)
	}

	data, res, _ := backup(t, newEngine(p, "app"))
	if res.Format != postgres.FormatCustom || strings.Join(res.Databases, ",") != "app" || !bytes.HasPrefix(data, []byte("PGDMP")) {
		t.Errorf("got format %q databases %q, want a custom archive of app", res.Format, res.Databases)
	}

	p.SQL(t, "postgres", "DROP DATABASE app")
	rres := restore(t, newEngine(p, "app"), engine.RestoreSpec{}, data)
	if rres.Tool != "pg_restore" || rres.Format != postgres.FormatCustom {
		t.Errorf("restore Result = %+v", rres)
	}
	if d := testenv.DiffSums(want, p.Checksums(t, "app")); len(d) > 0 {
		t.Errorf("restored database differs:\n%s", strings.Join(d, "\n"))
	}

	// Over an existing database whose data changed, the backup's content
	// comes back; into another name, a copy.
	p.SQL(t, "app", "DELETE FROM pgbench_history; UPDATE pgbench_accounts SET abalance = 7 WHERE aid < 100; DELETE FROM public.orders WHERE id > 10")
	restore(t, newEngine(p, "app"), engine.RestoreSpec{}, data)
	if d := testenv.DiffSums(want, p.Checksums(t, "app")); len(d) > 0 {
		t.Errorf("restore over changed data differs:\n%s", strings.Join(d, "\n"))
	}
	restore(t, newEngine(p, ""), engine.RestoreSpec{Database: "app copy"}, data)
	if d := testenv.DiffSums(want, p.Checksums(t, "app copy")); len(d) > 0 {
		t.Errorf("copy differs:\n%s", strings.Join(d, "\n"))
	}
}

func TestRoundTripAllDatabases(t *testing.T) {
	p := testenv.StartPostgres(t)
	p.SQL(t, "postgres", `CREATE ROLE shopkeeper LOGIN PASSWORD 'keeper-pw'; CREATE DATABASE shop OWNER shopkeeper; CREATE DATABASE "odd ""name"""`)
	p.SQL(t, "shop", variedSQL+"ALTER TABLE shop.customer OWNER TO shopkeeper;")
	p.Pgbench(t, `odd "name"`, 1)
	dbs := []string{"odd \"name\"", "postgres", "shop"}
	want := map[string]map[string]testenv.TableSum{}
	for _, db := range dbs {
		want[db] = p.Checksums(t, db)
	}

	data, res, log := backup(t, newEngine(p, ""))
	if res.Format != postgres.FormatCluster || strings.Join(res.Databases, ",") != strings.Join(dbs, ",") {
		t.Errorf("got format %q databases %q, want %s of %q", res.Format, res.Databases, postgres.FormatCluster, dbs)
	}
	if strings.Contains(log, p.Password) || strings.Contains(string(data), p.Password) {
		t.Errorf("the superuser's password leaked into the log or the stream")
	}

	p.SQL(t, "postgres", `DROP DATABASE shop; DROP DATABASE "odd ""name"""; DROP ROLE shopkeeper; CREATE TABLE extra (i int)`)
	// The superuser's password changed since the backup: the restore must
	// not put the old one back, or its own next connection fails.
	p.SQL(t, "postgres", "ALTER ROLE postgres PASSWORD 'new-pw'")
	p.Password = "new-pw"
	restore(t, newEngine(p, ""), engine.RestoreSpec{}, data)
	for _, db := range dbs {
		// The table made since the backup is gone with the rest.
		got := p.Checksums(t, db)
		if d := testenv.DiffSums(want[db], got); len(d) > 0 {
			t.Errorf("database %s differs:\n%s", db, strings.Join(d, "\n"))
		}
	}
	if got := strings.TrimSpace(p.SQL(t, "shop", "SELECT tableowner FROM pg_tables WHERE tablename = 'customer'")); got != "shopkeeper" {
		t.Errorf("customer owner = %q, want shopkeeper (roles restored, owners kept)", got)
	}
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop'")); got != "shopkeeper" {
		t.Errorf("shop database owner = %q, want shopkeeper", got)
	}
}

func TestRestoreFailureRollsBack(t *testing.T) {
	p := sharedPostgres(t)
	p.SQL(t, "postgres", "CREATE DATABASE rollback")
	p.SQL(t, "rollback", variedSQL)
	data, _, _ := backup(t, newEngine(p, "rollback"))
	p.SQL(t, "rollback", "DELETE FROM public.orders WHERE id > 10")
	changed := p.Checksums(t, "rollback")

	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"truncated archive", bytes.NewReader(data[:len(data)*2/3]), "pg_restore exited with status 1: pg_restore: error:"},
		{"reader fails mid-stream", io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(errors.New("checksum mismatch"))), "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newEngine(p, "rollback").Restore(context.Background(), engine.RestoreSpec{}, tt.r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if d := testenv.DiffSums(changed, p.Checksums(t, "rollback")); len(d) > 0 {
				t.Errorf("a failed restore changed the database:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestErrorsCarryToolMessage(t *testing.T) {
	p := sharedPostgres(t)
	ctx := context.Background()

	var log bytes.Buffer
	_, err := newEngine(p, "nope").Backup(ctx, engine.BackupSpec{Log: &log}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `database "nope" does not exist`) {
		t.Errorf("backup of a missing database: got %v, want the server's reason", err)
	}

	bad := connOf(p, "postgres")
	bad.Password = "CANARY-" + p.Password + "-x"
	e := postgres.New(bad, postgres.Options{BinDir: p.BinDir})
	err = e.Check(ctx)
	want := "cannot connect to PostgreSQL at " + bad.Addr() + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("Check with a wrong password: got %v, want %q... password authentication failed", err, want)
	}
	_, err = e.Backup(ctx, engine.BackupSpec{Log: &log}, io.Discard)
	for _, s := range []string{fmtErr(err), log.String()} {
		if strings.Contains(s, "CANARY") {
			t.Errorf("password leaked: %q", s)
		}
	}

	down := connOf(p, "postgres")
	down.Port = 1
	err = postgres.New(down, postgres.Options{BinDir: p.BinDir}).Check(ctx)
	if want := "cannot connect to PostgreSQL at 127.0.0.1:1: "; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Check of a closed port: got %v, want %q... refused", err, want)
	}

	if err := newEngine(p, "").Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	_, err = newEngine(p, "postgres").Backup(ctx, engine.BackupSpec{Method: engine.Method("incremental")}, io.Discard)
	if !errors.Is(err, engine.ErrUnsupportedMethod) {
		t.Errorf("incremental backup: got %v, want ErrUnsupportedMethod", err)
	}
	_, err = newEngine(p, "").Restore(ctx, engine.RestoreSpec{Method: engine.MethodPhysical}, strings.NewReader(""))
	if !errors.Is(err, engine.ErrUnsupportedMethod) {
		t.Errorf("physical restore into a running server: got %v, want ErrUnsupportedMethod", err)
	}
	_, err = newEngine(p, "").Restore(ctx, engine.RestoreSpec{}, strings.NewReader("-- plain SQL\n"))
	if err == nil || !strings.Contains(err.Error(), "neither a pg_dump custom archive") {
		t.Errorf("restore of plain SQL: got %v", err)
	}
	_, err = newEngine(p, "").Restore(ctx, engine.RestoreSpec{}, strings.NewReader("PGDMP..."))
	if err == nil || !strings.Contains(err.Error(), "no target database") {
		t.Errorf("restore of one database without a target: got %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
