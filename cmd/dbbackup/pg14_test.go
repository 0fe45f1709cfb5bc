package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestPostgres14BackupRestore backs up a PostgreSQL 14 server, the version
// Charmed PostgreSQL runs, with Debian's newer client tools: one database,
// then all of them; after changes, each restore gives back exactly what
// the backup held, compared by dump, and the manifest records the 14
// server.
func TestPostgres14BackupRestore(t *testing.T) {
	pg := testenv.StartPostgresAt(t, testenv.Postgres14BinDir())
	s := newS3Fixture(t)
	t.Setenv("PGPASSWORD", pg.Password)
	secrets := append(s.secrets, pg.Password)
	pg.SQL(t, "postgres", "CREATE ROLE clerk LOGIN; CREATE DATABASE shop; CREATE DATABASE ledger OWNER clerk")
	pg.SQL(t, "shop", pgFixture+"GRANT SELECT ON sales.orders TO clerk;")
	pg.SQL(t, "ledger", "CREATE TABLE entry (id int PRIMARY KEY, amount numeric); INSERT INTO entry SELECT i, i * 0.5 FROM generate_series(1, 500) i;")

	backup := func(url string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", "backup", "--engine", "postgresql", "--database-url", url, "--storage-config", s.cfgFile, "--json")
		mustNotLeak(t, secrets, out, errOut)
		var rep backupReport
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("backup of %s: code %d\n%s%s", url, code, out, errOut)
		}
		m, err := artefact.ReadManifest(context.Background(), s.root, rep.ArtefactPath)
		if err != nil {
			t.Fatalf("cannot read the manifest of %s: %v", rep.ArtefactPath, err)
		}
		if v := m.Engine.ServerVersion; !strings.HasPrefix(v, "14.") {
			t.Errorf("the manifest of %s records server version %q, want 14.x", rep.ArtefactPath, v)
		}
		return rep.ArtefactPath
	}
	restore := func(url, path string) {
		t.Helper()
		code, out, errOut := runCLI(t, "", "restore", "--engine", "postgresql", "--database-url", url, "--storage-config", s.cfgFile, "--artefact-path", path)
		mustNotLeak(t, secrets, out, errOut)
		if code != 0 {
			t.Fatalf("restore of %s: code %d\n%s%s", path, code, out, errOut)
		}
	}
	// change alters a row and adds a table in both databases; n names the
	// tables, new each time.
	change := func(n string) {
		t.Helper()
		pg.SQL(t, "shop", "UPDATE public.customers SET name = 'changed' WHERE id = 7; CREATE TABLE public.since"+n+" (i int); INSERT INTO public.since"+n+" VALUES (1);")
		pg.SQL(t, "ledger", "UPDATE entry SET amount = -1 WHERE id = 3; CREATE TABLE later"+n+" (i int);")
	}

	one := backup(pg.URL("shop"))
	wantShop := pg.Dump(t, "shop")
	all := backup(pg.URL(""))
	wantAll := pg.DumpCluster(t)

	change("1")
	if pg.Dump(t, "shop") == wantShop {
		t.Fatal("the changes did not change the dump: the test would prove nothing")
	}
	restore(pg.URL("shop"), one)
	if got := pg.Dump(t, "shop"); got != wantShop {
		t.Errorf("the restored database differs from the backup:\n%s", lineDiff(wantShop, got))
	}

	change("2")
	restore(pg.URL(""), all)
	if got := pg.DumpCluster(t); got != wantAll {
		t.Errorf("the restored server differs from the backup:\n%s", lineDiff(wantAll, got))
	}
}
