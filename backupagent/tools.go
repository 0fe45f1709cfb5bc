package backupagent

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
)

// Tools is where the agent found the client tools of the server it
// serves, and their version.
type Tools struct {
	// BinDir is the folder holding every tool the engine runs (the
	// engine's Options.BinDir).
	BinDir string
	// Source says where the folder comes from, for a person: "the
	// charmed-postgresql snap", "/usr/lib/postgresql/16/bin", "PATH".
	Source string
	// Version is the dump tool's version.
	Version Version
}

// Version is a database program's flavour and version.
type Version struct {
	// Flavor is PostgreSQL, MySQL or MariaDB.
	Flavor string
	// Major and Minor: PostgreSQL 16 is 16.x (only Major compares),
	// MySQL 8.0 is 8.0, MariaDB 10.11 is 10.11.
	Major, Minor int
}

// String returns "PostgreSQL 16", "MySQL 8.0" or "MariaDB 10.11".
func (v Version) String() string {
	if v.Flavor == "PostgreSQL" && v.Major >= 10 {
		return fmt.Sprintf("%s %d", v.Flavor, v.Major)
	}
	return fmt.Sprintf("%s %d.%d", v.Flavor, v.Major, v.Minor)
}

// covers reports whether tools of version v can dump and load a server of
// version server: the same flavour (MariaDB's and MySQL's dump tools
// differ in GTID and statistics handling) and a release at least the
// server's (pg_dump refuses a newer server; an older mysqldump misses
// newer syntax).
func (v Version) covers(server Version) bool {
	if v.Flavor != server.Flavor {
		return false
	}
	if v.Flavor == "PostgreSQL" && v.Major >= 10 {
		return v.Major >= server.Major
	}
	return v.Major > server.Major || v.Major == server.Major && v.Minor >= server.Minor
}

var (
	pgVersion      = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)
	mariadbVersion = regexp.MustCompile(`(\d+)\.(\d+)\.\d+-MariaDB`)
	mysqlDistrib   = regexp.MustCompile(`Distrib (\d+)\.(\d+)\.\d+`)
	mysqlVersion   = regexp.MustCompile(`(?:^|\s)(\d+)\.(\d+)\.\d+`)
	serverMajor    = regexp.MustCompile(`^(\d+)(?:\.(\d+))?`)
)

// ParseVersion reads a tool's --version line (pg_dump (PostgreSQL) 16.4,
// mysqldump Ver 8.0.36-0ubuntu0.22.04.1, mariadb-dump Ver 10.19 Distrib
// 10.11.6-MariaDB) or a server's version (16.4 (Ubuntu ...), 8.0.36-28,
// 10.11.6-MariaDB-0+deb12u1) of engine kind.
func ParseVersion(kind engine.Kind, s string) (Version, error) {
	atoi := func(m []string) (int, int) {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		return a, b
	}
	switch kind {
	case engine.PostgreSQL:
		m := pgVersion.FindStringSubmatch(s)
		if m == nil {
			m = serverMajor.FindStringSubmatch(strings.TrimSpace(s))
		}
		if m != nil {
			a, b := atoi(m)
			return Version{Flavor: "PostgreSQL", Major: a, Minor: b}, nil
		}
	case engine.MySQL:
		if m := mariadbVersion.FindStringSubmatch(s); m != nil {
			a, b := atoi(m)
			return Version{Flavor: "MariaDB", Major: a, Minor: b}, nil
		}
		m := mysqlDistrib.FindStringSubmatch(s)
		if m == nil {
			m = mysqlVersion.FindStringSubmatch(s)
		}
		if m != nil {
			a, b := atoi(m)
			return Version{Flavor: "MySQL", Major: a, Minor: b}, nil
		}
	}
	return Version{}, fmt.Errorf("cannot read a %s version in %q", kind, s)
}
