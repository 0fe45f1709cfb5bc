package backupagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		kind engine.Kind
		in   string
		want string
	}{
		{engine.PostgreSQL, "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "PostgreSQL 15"},
		{engine.PostgreSQL, "psql (PostgreSQL) 16.4 (Ubuntu 16.4-0ubuntu0.24.04.2)", "PostgreSQL 16"},
		{engine.PostgreSQL, "14.12 (Ubuntu 14.12-0ubuntu0.22.04.1)", "PostgreSQL 14"},
		{engine.PostgreSQL, "9.6.24", "PostgreSQL 9.6"},
		{engine.MySQL, "mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)", "MariaDB 10.11"},
		{engine.MySQL, "mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu (x86_64)", "MariaDB 11.4"},
		{engine.MySQL, "10.11.19-MariaDB-0+deb12u1", "MariaDB 10.11"},
		{engine.MySQL, "mysqldump  Ver 8.0.36-0ubuntu0.22.04.1 for Linux on x86_64 ((Ubuntu))", "MySQL 8.0"},
		{engine.MySQL, "mysqldump  Ver 8.4.3 for Linux on x86_64 (MySQL Community Server - GPL)", "MySQL 8.4"},
		{engine.MySQL, "mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)", "MySQL 5.7"},
		{engine.MySQL, "8.0.36-28", "MySQL 8.0"},
	} {
		v, err := ParseVersion(tc.kind, tc.in)
		if err != nil || v.String() != tc.want {
			t.Errorf("ParseVersion(%s, %q) = %v, %v; want %s", tc.kind, tc.in, v, err, tc.want)
		}
	}
	for _, in := range []string{"", "pg_dump", "version unknown"} {
		if v, err := ParseVersion(engine.PostgreSQL, in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", in, v)
		}
	}
}

// fakeTools writes small shell scripts answering --version with version
// into dir, one per name.
func fakeTools(t *testing.T, dir, version string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		script := "#!/bin/sh\necho '" + strings.Replace(version, "TOOL", n, 1) + "'\n"
		if err := os.WriteFile(filepath.Join(dir, n), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

var pgTools = []string{"pg_dump", "pg_restore", "pg_dumpall", "psql"}

// fakeFinder is a finder whose snap, Debian and PATH folders are all
// under a temporary folder.
func fakeFinder(t *testing.T) (ToolFinder, string) {
	root := t.TempDir()
	f := ToolFinder{SnapDir: filepath.Join(root, "snap"), PostgresLibDir: filepath.Join(root, "usr/lib/postgresql"),
		Path: filepath.Join(root, "usr/bin") + string(os.PathListSeparator) + filepath.Join(root, "bin")}
	return f, root
}

func serverSays(v string) func(context.Context, string) (string, error) {
	return func(context.Context, string) (string, error) { return v, nil }
}

func TestFindCharmedPostgreSQLSnap(t *testing.T) {
	f, root := fakeFinder(t)
	bin := filepath.Join(root, "snap/charmed-postgresql/current/usr/lib/postgresql/14/bin")
	fakeTools(t, bin, "TOOL (PostgreSQL) 14.12 (Ubuntu 14.12-0ubuntu0.22.04.1)", pgTools...)
	var asked string
	got, err := f.Find(context.Background(), engine.PostgreSQL, func(_ context.Context, dir string) (string, error) {
		asked = dir
		return "14.12 (Ubuntu 14.12-0ubuntu0.22.04.1)", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.BinDir != bin || got.Source != "the charmed-postgresql snap" || got.Version.String() != "PostgreSQL 14" || asked != bin {
		t.Errorf("got %+v (server asked with %s), want the snap's 14 tools", got, asked)
	}
	// A server newer than every tool found blocks, naming both and the package.
	_, err = f.Find(context.Background(), engine.PostgreSQL, serverSays("16.4"))
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "PostgreSQL 14 (the charmed-postgresql snap)") ||
		!strings.Contains(err.Error(), "server is PostgreSQL 16") || !strings.Contains(err.Error(), "postgresql-client-16") {
		t.Errorf("server 16 with 14 tools: %v", err)
	}
}

func TestFindCharmedMySQLSnap(t *testing.T) {
	f, root := fakeFinder(t)
	bin := filepath.Join(root, "snap/charmed-mysql/current/usr/bin")
	fakeTools(t, bin, "TOOL  Ver 8.0.36-0ubuntu0.22.04.1 for Linux on x86_64 ((Ubuntu))", "mysqldump", "mysql")
	got, err := f.Find(context.Background(), engine.MySQL, serverSays("8.0.36-0ubuntu0.22.04.1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.BinDir != bin || got.Source != "the charmed-mysql snap" || got.Version.String() != "MySQL 8.0" {
		t.Errorf("got %+v, want the snap's MySQL 8.0 tools", got)
	}
	for server, want := range map[string]string{
		"8.4.2":                     "mysql-client-8.4",
		"10.11.6-MariaDB-0+deb12u1": "install mariadb-client",
	} {
		if _, err := f.Find(context.Background(), engine.MySQL, serverSays(server)); !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), want) {
			t.Errorf("server %s with MySQL 8.0 tools: %v, want an error with %q", server, err, want)
		}
	}
}

func TestFindNewestWins(t *testing.T) {
	f, root := fakeFinder(t)
	fakeTools(t, filepath.Join(root, "snap/charmed-postgresql/current/usr/lib/postgresql/14/bin"), "TOOL (PostgreSQL) 14.12", pgTools...)
	deb := filepath.Join(root, "usr/lib/postgresql/16/bin")
	fakeTools(t, deb, "TOOL (PostgreSQL) 16.4", pgTools...)
	fakeTools(t, filepath.Join(root, "usr/lib/postgresql/13/bin"), "TOOL (PostgreSQL) 13.1", pgTools...)
	fakeTools(t, filepath.Join(root, "bin"), "TOOL (PostgreSQL) 15.2", pgTools...)
	got, err := f.Find(context.Background(), engine.PostgreSQL, serverSays("16.1"))
	if err != nil || got.BinDir != deb || got.Source != deb {
		t.Errorf("got %+v, %v; want the Debian 16 folder", got, err)
	}
}

func TestFindOnPath(t *testing.T) {
	f, root := fakeFinder(t)
	bin := filepath.Join(root, "bin")
	fakeTools(t, bin, "TOOL  Ver 10.19 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)", "mariadb-dump", "mariadb")
	got, err := f.Find(context.Background(), engine.MySQL, serverSays("10.11.6-MariaDB-0+deb12u1"))
	if err != nil || got.BinDir != bin || !strings.HasPrefix(got.Source, "PATH") {
		t.Errorf("got %+v, %v; want the PATH folder", got, err)
	}
	// An unreachable server leaves the tools unchecked: the runner's
	// database check says why the server cannot be reached.
	got, err = f.Find(context.Background(), engine.MySQL, func(context.Context, string) (string, error) { return "", errors.New("refused") })
	if err != nil || got.BinDir != bin {
		t.Errorf("unreachable server: %+v, %v", got, err)
	}
}

func TestFindMissing(t *testing.T) {
	f, root := fakeFinder(t)
	_, err := f.Find(context.Background(), engine.PostgreSQL, nil)
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "cannot find pg_dump, pg_restore, pg_dumpall, psql") {
		t.Errorf("nothing installed: %v", err)
	}
	fakeTools(t, filepath.Join(root, "usr/bin"), "TOOL (PostgreSQL) 16.4", "pg_dump", "psql")
	_, err = f.Find(context.Background(), engine.PostgreSQL, nil)
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "has pg_dump, psql but not pg_restore, pg_dumpall") {
		t.Errorf("half installed: %v", err)
	}
	broken := filepath.Join(root, "bin")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"mysqldump", "mysql"} {
		os.WriteFile(filepath.Join(broken, n), []byte("#!/bin/sh\nexit 3\n"), 0o755)
	}
	_, err = f.Find(context.Background(), engine.MySQL, nil)
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "cannot run") {
		t.Errorf("tools that do not run: %v", err)
	}
}

// TestWithToolsReal finds the real tools on this machine for real
// servers: the Debian folder for PostgreSQL, PATH for MariaDB, each
// checked against the version the server reports.
func TestWithToolsReal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := testenv.StartPostgres(t)
	db, err := WithTools(ctx, Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password}, ToolFinder{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db.BinDir, "/usr/lib/postgresql/") {
		t.Errorf("PostgreSQL tools in %q, want a /usr/lib/postgresql/<major>/bin folder", db.BinDir)
	}
	// PATH alone (no Debian folders): /usr/bin's pg_dump.
	db, err = WithTools(ctx, Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password},
		ToolFinder{PostgresLibDir: t.TempDir(), SnapDir: t.TempDir()})
	if err != nil || db.BinDir == "" {
		t.Errorf("PostgreSQL tools on PATH: %q, %v", db.BinDir, err)
	}
	m := testenv.StartMariaDB(t)
	db, err = WithTools(ctx, Database{Engine: engine.MySQL, Host: m.Host, Port: m.Port, User: m.User, Password: m.Password}, ToolFinder{})
	if err != nil || db.BinDir == "" {
		t.Errorf("MariaDB tools: %q, %v", db.BinDir, err)
	}
	// A server newer than the tools: the real PostgreSQL tools against a
	// fake server version.
	_, err = ToolFinder{}.Find(ctx, engine.PostgreSQL, serverSays("99.0"))
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "postgresql-client-99") {
		t.Errorf("server 99: %v", err)
	}
}

// TestFindServersOwnMajorWins: beside newer client packages, the tools
// of the server's own major are taken (the snap's, at equal majors the
// first in the order of preference); without them the newest set. The
// server is asked with the newest set.
func TestFindServersOwnMajorWins(t *testing.T) {
	f, root := fakeFinder(t)
	snap := filepath.Join(root, "snap/charmed-postgresql/current/usr/lib/postgresql/16/bin")
	fakeTools(t, snap, "TOOL (PostgreSQL) 16.4", pgTools...)
	deb17 := filepath.Join(root, "usr/lib/postgresql/17/bin")
	fakeTools(t, deb17, "TOOL (PostgreSQL) 17.2", pgTools...)
	deb18 := filepath.Join(root, "usr/lib/postgresql/18/bin")
	fakeTools(t, deb18, "TOOL (PostgreSQL) 18.1", pgTools...)
	fakeTools(t, filepath.Join(root, "bin"), "TOOL (PostgreSQL) 16.4", pgTools...)
	for _, tc := range []struct{ server, want string }{
		{"16.4 (Ubuntu 16.4-0ubuntu0.24.04.2)", snap},
		{"17.0", deb17},
		{"18.1", deb18},
		{"15.8", deb18},
		{"14.12", deb18},
	} {
		var asked string
		got, err := f.Find(context.Background(), engine.PostgreSQL, func(_ context.Context, dir string) (string, error) {
			asked = dir
			return tc.server, nil
		})
		if err != nil || got.BinDir != tc.want || asked != deb18 {
			t.Errorf("server %s: got %+v, %v (asked with %s); want %s (asked with %s)", tc.server, got, err, asked, tc.want, deb18)
		}
	}
	// A server newer than every set is still refused.
	if _, err := f.Find(context.Background(), engine.PostgreSQL, serverSays("19.0")); !errors.Is(err, ErrTools) {
		t.Errorf("server 19 with 18 tools: %v, want ErrTools", err)
	}
}

// TestFindServersOwnRelease: a MySQL 8.0 server is served with MySQL
// 8.0's tools beside newer ones; a MariaDB server never with MySQL's.
func TestFindServersOwnRelease(t *testing.T) {
	f, root := fakeFinder(t)
	snap := filepath.Join(root, "snap/charmed-mysql/current/usr/bin")
	fakeTools(t, snap, "TOOL  Ver 8.0.36-0ubuntu0.22.04.1 for Linux on x86_64 ((Ubuntu))", "mysqldump", "mysql")
	newer := filepath.Join(root, "bin")
	fakeTools(t, newer, "TOOL  Ver 8.4.2 for Linux on x86_64 (MySQL Community Server - GPL)", "mysqldump", "mysql")
	got, err := f.Find(context.Background(), engine.MySQL, serverSays("8.0.36-28"))
	if err != nil || got.BinDir != snap {
		t.Errorf("MySQL 8.0 server: got %+v, %v; want the snap's 8.0 tools", got, err)
	}
	got, err = f.Find(context.Background(), engine.MySQL, serverSays("8.4.0"))
	if err != nil || got.BinDir != newer {
		t.Errorf("MySQL 8.4 server: got %+v, %v; want the 8.4 tools", got, err)
	}
}
