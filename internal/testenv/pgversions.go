package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PostgresMatrix lists the PostgreSQL majors the version-matrix tests run
// on, beside the server every other test starts (StartPostgres: Debian's
// 15): those Charmed PostgreSQL runs, 14 on Ubuntu 22.04 and 16 on 24.04.
// scripts/install-postgres-npm.sh installs them.
var PostgresMatrix = []int{14, 16}

// StartPostgresMajor starts a server of the given major (see
// StartPostgresAt) from PostgresServerBinDir(major). Without it, or
// without client tools at least as new, it calls Unavailable: under CI a
// missing version fails.
func StartPostgresMajor(t T, major int) *Postgres {
	t.Helper()
	bin := PostgresServerBinDir(major)
	if bin == "" {
		Unavailable(t, "PostgreSQL %d server programs (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/%d/bin nor %s/postgresql-%d/bin; run scripts/install-postgres-npm.sh %d",
			major, major, CacheDir(), major, major)
	}
	p := StartPostgresAt(t, bin)
	if got := p.ServerMajor(t); got != major {
		t.Fatalf("the server of %s is PostgreSQL %d, want %d", bin, got, major)
	}
	return p
}

// Postgres14BinDir returns the folder where scripts/install-postgres-npm.sh
// puts PostgreSQL 14's server programs.
func Postgres14BinDir() string {
	return filepath.Join(CacheDir(), "postgresql-14", "bin")
}

// PostgresServerBinDir returns the folder of the server programs
// (initdb, pg_ctl, postgres) of a PostgreSQL major: Debian's
// /usr/lib/postgresql/<major>/bin, else the .cache/postgresql-<major>/bin
// of scripts/install-postgres-npm.sh; "" when neither holds them.
func PostgresServerBinDir(major int) string {
	for _, d := range []string{
		filepath.Join("/usr/lib/postgresql", strconv.Itoa(major), "bin"),
		filepath.Join(CacheDir(), "postgresql-"+strconv.Itoa(major), "bin"),
	} {
		if hasPrograms(d, "initdb", "pg_ctl", "postgres") {
			return d
		}
	}
	return ""
}

// pgClientTools are the client tools the tests and the engine run: a
// folder is a client of PostgreSQL only with all of them.
var pgClientTools = []string{"psql", "pg_dump", "pg_dumpall", "pg_restore", "pgbench",
	"pg_basebackup", "pg_receivewal", "pg_verifybackup"}

// PostgresClientBinDir returns the folder of the client tools (psql,
// pg_dump, pg_dumpall, pg_restore, pgbench, pg_basebackup, pg_receivewal,
// pg_verifybackup) of the lowest PostgreSQL major at least major, among
// /usr/lib/postgresql/<n>/bin and .cache/postgresql-<n>/bin (at equal
// majors Debian's); "" when there is none.
func PostgresClientBinDir(major int) string {
	var dirs []string
	for _, glob := range []string{"/usr/lib/postgresql/*/bin", filepath.Join(CacheDir(), "postgresql-*", "bin")} {
		found, _ := filepath.Glob(glob)
		dirs = append(dirs, found...)
	}
	return clientBinDir(major, dirs)
}

// clientBinDir picks, among dirs (<parent>/<n>/bin or
// <parent>/postgresql-<n>/bin), the first of the lowest major n at least
// major that holds every client tool.
func clientBinDir(major int, dirs []string) string {
	best, bestMajor := "", -1
	for _, d := range dirs {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(d)), "postgresql-"))
		if err != nil || n < major || (bestMajor >= 0 && n >= bestMajor) {
			continue
		}
		if hasPrograms(d, pgClientTools...) {
			best, bestMajor = d, n
		}
	}
	return best
}

// hasPrograms reports whether dir holds every one of names.
func hasPrograms(dir string, names ...string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// programMajor returns the major version a PostgreSQL program reports
// ("postgres (PostgreSQL) 16.14" gives 16).
func programMajor(path string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", path, err)
	}
	return parseMajor(string(out))
}

// parseMajor reads the major of a version line or of server_version:
// "postgres (PostgreSQL) 16.14", "15.18 (Debian 15.18-0+deb12u1)",
// "18.0".
func parseMajor(s string) (int, error) {
	f := strings.Fields(s)
	for i, w := range f {
		if w == "(PostgreSQL)" && i+1 < len(f) {
			f = f[i+1:]
			break
		}
	}
	if len(f) == 0 {
		return 0, fmt.Errorf("no version in %q", s)
	}
	head, _, _ := strings.Cut(f[0], ".")
	n, err := strconv.Atoi(head)
	if err != nil || n < 10 || n > 99 {
		return 0, fmt.Errorf("no PostgreSQL major in %q", s)
	}
	return n, nil
}

// ServerMajor asks the server its major version.
func (p *Postgres) ServerMajor(t T) int {
	t.Helper()
	n, err := parseMajor(p.SQL(t, "postgres", "SHOW server_version"))
	if err != nil {
		t.Fatalf("cannot read the server's version: %v", err)
	}
	return n
}

// ClientMajor returns the major version of the client tools in BinDir
// (its pg_dump's).
func (p *Postgres) ClientMajor(t T) int {
	t.Helper()
	n, err := programMajor(filepath.Join(p.BinDir, "pg_dump"))
	if err != nil {
		t.Fatalf("cannot tell the client tools' version: %v", err)
	}
	return n
}
