package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseMajor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"postgres (PostgreSQL) 16.14\n", 16},
		{"pg_dump (PostgreSQL) 18.0", 18},
		{"15.18 (Debian 15.18-0+deb12u1)", 15},
		{"14.23\n", 14},
	} {
		if got, err := parseMajor(tc.in); err != nil || got != tc.want {
			t.Errorf("parseMajor(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "postgres (PostgreSQL)", "9.6.24", "mariadb 10.11", "x.y"} {
		if got, err := parseMajor(bad); err == nil {
			t.Errorf("parseMajor(%q) = %d, want an error", bad, got)
		}
	}
}

// TestClientBinDir: the client tools of a server are those of the lowest
// major at least the server's that has every tool; Debian's before the
// cache's at equal majors; none for a server newer than every client.
func TestClientBinDir(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, tools []string) string {
		d := filepath.Join(root, dir, "bin")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range tools {
			if err := os.WriteFile(filepath.Join(d, n), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	deb15 := mk("lib/15", pgClientTools)
	serverOnly16 := mk("cache/postgresql-16", []string{"initdb", "pg_ctl", "postgres"})
	noVerify17 := mk("cache/postgresql-17", pgClientTools[:len(pgClientTools)-1])
	cache18 := mk("cache/postgresql-18", pgClientTools)
	deb18 := mk("lib/18", pgClientTools)
	dirs := []string{deb15, serverOnly16, noVerify17, deb18, cache18}
	for _, tc := range []struct {
		major int
		want  string
	}{{14, deb15}, {15, deb15}, {16, deb18}, {17, deb18}, {18, deb18}, {19, ""}} {
		if got := clientBinDir(tc.major, dirs); got != tc.want {
			t.Errorf("clients of a %d server: %q, want %q", tc.major, got, tc.want)
		}
	}
	if got := clientBinDir(16, []string{deb15, cache18}); got != cache18 {
		t.Errorf("clients of a 16 server beside 15 and the cache's 18: %q, want %q", got, cache18)
	}
}

// TestStartPostgresMajor starts each server of the matrix: it is of the
// major asked, and its client tools are of a major at least its own.
func TestStartPostgresMajor(t *testing.T) {
	for _, major := range PostgresMatrix {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			p := StartPostgresMajor(t, major)
			if got := p.ServerMajor(t); got != major {
				t.Errorf("server of major %d, want %d", got, major)
			}
			client, err := programMajor(filepath.Join(p.BinDir, "pg_dump"))
			if err != nil || client < major {
				t.Errorf("pg_dump of %s is of major %d (%v), want at least %d", p.BinDir, client, err, major)
			}
			p.SQL(t, "postgres", "CREATE TABLE matrix (i int); INSERT INTO matrix VALUES (42)")
			if d := p.Dump(t, "postgres"); !strings.Contains(d, "CREATE TABLE public.matrix") || !strings.Contains(d, "\n42\n") {
				t.Errorf("the dump of the %d server lacks its table:\n%s", major, d)
			}
		})
	}
}
