package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestVersionMatrix runs, on one server of each major of
// testenv.PostgresMatrix (those Charmed PostgreSQL runs), the command
// line's logical backup and restore of one database and of all, with the
// client tools testenv picks for the server first on PATH (the lowest
// major at least the server's), and the agent's tool lookup against that
// server.
func TestVersionMatrix(t *testing.T) {
	for _, major := range testenv.PostgresMatrix {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			pg := testenv.StartPostgresMajor(t, major)
			t.Run("BackupRestore", func(t *testing.T) { backupRestoreOn(t, pg, major) })
			t.Run("ToolLookup", func(t *testing.T) { toolLookupOn(t, pg, major) })
		})
	}
}

// backupRestoreOn backs up one database, then all of them; after
// changes, each restore gives back exactly what the backup held, compared
// by dump, and the manifest records the server's major.
func backupRestoreOn(t *testing.T, pg *testenv.Postgres, major int) {
	s := newS3Fixture(t)
	t.Setenv("PGPASSWORD", pg.Password)
	t.Setenv("PATH", pg.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
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
		if v := m.Engine.ServerVersion; !strings.HasPrefix(v, strconv.Itoa(major)+".") {
			t.Errorf("the manifest of %s records server version %q, want %d.x", rep.ArtefactPath, v, major)
		}
		if v := m.Engine.ToolVersion; !strings.Contains(v, "(PostgreSQL) "+strconv.Itoa(pg.ClientMajor(t))+".") {
			t.Errorf("the manifest of %s records tool version %q, want the tools of %s", rep.ArtefactPath, v, pg.BinDir)
		}
		return rep.ArtefactPath
	}
	restore := func(url, path string) (int, string) {
		t.Helper()
		code, out, errOut := runCLI(t, "", "restore", "--engine", "postgresql", "--database-url", url, "--storage-config", s.cfgFile, "--artefact-path", path)
		mustNotLeak(t, secrets, out, errOut)
		return code, out + errOut
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
	changed := pg.Dump(t, "shop")
	if changed == wantShop {
		t.Fatal("the changes did not change the dump: the test would prove nothing")
	}
	if pg.ClientMajor(t) >= 17 && major < 17 {
		// pg_restore of 17 and later writes "SET transaction_timeout = 0"
		// into its script whatever the server; a server before 17 refuses
		// it. No registry reachable here ships the client tools of 16.
		// The restore of one database, one transaction, is refused and
		// leaves the database as it was; all databases are not restored
		// here.
		code, out := restore(pg.URL("shop"), one)
		if code == 0 || !strings.Contains(out, "transaction_timeout") {
			t.Fatalf("restore into %d with the tools of %d: code %d, want the refusal of transaction_timeout\n%s", major, pg.ClientMajor(t), code, out)
		}
		if got := pg.Dump(t, "shop"); got != changed {
			t.Errorf("a refused restore changed the database:\n%s", lineDiff(changed, got))
		}
		return
	}
	if code, out := restore(pg.URL("shop"), one); code != 0 {
		t.Fatalf("restore of %s: code %d\n%s", one, code, out)
	}
	if got := pg.Dump(t, "shop"); got != wantShop {
		t.Errorf("the restored database differs from the backup:\n%s", lineDiff(wantShop, got))
	}

	change("2")
	if code, out := restore(pg.URL(""), all); code != 0 {
		t.Fatalf("restore of %s: code %d\n%s", all, code, out)
	}
	if got := pg.DumpCluster(t); got != wantAll {
		t.Errorf("the restored server differs from the backup:\n%s", lineDiff(wantAll, got))
	}
}

// toolLookupOn: the agent's tool lookup, in a machine whose
// /usr/lib/postgresql holds this machine's client tools, takes those of a
// major at least the server's (the newest set) and asks the server with
// them; with only older tools it refuses, naming the client package of
// the server's major.
func toolLookupOn(t *testing.T, pg *testenv.Postgres, major int) {
	lib := t.TempDir()
	client := pg.ClientMajor(t)
	link := func(n int, bin string) {
		if err := os.Symlink(filepath.Dir(bin), filepath.Join(lib, strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	link(client, pg.BinDir)
	var older string
	for n := major - 1; n >= 10 && older == ""; n-- {
		if d := testenv.PostgresClientBinDir(n); d != "" && d != pg.BinDir {
			older = d
			link(n, d)
		}
	}
	db := backupagent.Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password}
	f := backupagent.ToolFinder{SnapDir: t.TempDir(), PostgresLibDir: lib, Path: t.TempDir()}
	got, err := backupagent.WithTools(context.Background(), db, f)
	if want := filepath.Join(lib, strconv.Itoa(client), "bin"); err != nil || got.BinDir != want {
		t.Errorf("the tools of a %d server: %q, %v; want %q", major, got.BinDir, err, want)
	}
	if older == "" {
		return // no older set here to be refused (14's oldest client is 15)
	}
	if err := os.Remove(filepath.Join(lib, strconv.Itoa(client))); err != nil {
		t.Fatal(err)
	}
	_, err = backupagent.WithTools(context.Background(), db, f)
	var te *backupagent.ToolsError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "postgresql-client-"+strconv.Itoa(major)) {
		t.Errorf("only the tools of %s for a %d server: %v, want a ToolsError naming postgresql-client-%d", older, major, err, major)
	}
}
