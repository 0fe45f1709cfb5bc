package backupagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// ToolFinder finds the client tools of a database server on the unit's
// machine, in this order of preference at equal versions: the Charmed
// PostgreSQL or Charmed MySQL snap (the tools of the server beside a
// subordinate agent), the versioned folders of the Debian/Ubuntu
// PostgreSQL packages (/usr/lib/postgresql/<major>/bin), then PATH. A
// complete set of the server's own release (its major for PostgreSQL)
// wins, else the newest complete set. The zero value looks in the real
// places.
type ToolFinder struct {
	// SnapDir is where snaps are mounted; /snap when empty.
	SnapDir string
	// PostgresLibDir holds the Debian packages' versioned folders;
	// /usr/lib/postgresql when empty.
	PostgresLibDir string
	// Path is the search path; $PATH when empty.
	Path string
}

// toolNames are the programs an engine runs: each entry lists the names
// one program may have, in the engine's order of preference.
var toolNames = map[engine.Kind][][]string{
	engine.PostgreSQL: {{"pg_dump"}, {"pg_restore"}, {"pg_dumpall"}, {"psql"}},
	engine.MySQL:      {{"mariadb-dump", "mysqldump"}, {"mariadb", "mysql"}},
}

// packages names what to install for a server version, for the message.
func packages(server Version) string {
	switch server.Flavor {
	case "PostgreSQL":
		return fmt.Sprintf("postgresql-client-%d", server.Major)
	case "MariaDB":
		return "mariadb-client"
	case "MySQL":
		return fmt.Sprintf("mysql-client-%d.%d", server.Major, server.Minor)
	}
	return "the database client tools"
}

type candidate struct{ dir, source string }

func (f ToolFinder) candidates(kind engine.Kind) []candidate {
	snap := f.SnapDir
	if snap == "" {
		snap = "/snap"
	}
	var out []candidate
	switch kind {
	case engine.PostgreSQL:
		out = append(out, versioned(filepath.Join(snap, "charmed-postgresql/current/usr/lib/postgresql"), "the charmed-postgresql snap")...)
		lib := f.PostgresLibDir
		if lib == "" {
			lib = "/usr/lib/postgresql"
		}
		out = append(out, versioned(lib, "")...)
	case engine.MySQL:
		out = append(out, candidate{filepath.Join(snap, "charmed-mysql/current/usr/bin"), "the charmed-mysql snap"})
	}
	path := f.Path
	if path == "" {
		path = os.Getenv("PATH")
	}
	for _, d := range filepath.SplitList(path) {
		if d != "" {
			out = append(out, candidate{d, "PATH (" + d + ")"})
		}
	}
	return out
}

// versioned lists root/<major>/bin, newest first; source "" names the folder.
func versioned(root, source string) []candidate {
	entries, _ := os.ReadDir(root)
	var majors []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			majors = append(majors, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(majors)))
	var out []candidate
	for _, m := range majors {
		dir := filepath.Join(root, strconv.Itoa(m), "bin")
		src := source
		if src == "" {
			src = dir
		}
		out = append(out, candidate{dir, src})
	}
	return out
}

// ErrTools is wrapped by every error of Find: the unit cannot serve
// backups until the tools are installed.
var ErrTools = errors.New("database tools missing or too old")

// ToolsError is Find's error: what is missing or too old, and the
// Debian/Ubuntu packages that would provide the tools.
type ToolsError struct {
	msg string
	// Packages are the packages to install: the client of the server's
	// version when it is known, else the release's default client.
	Packages []string
}

// Error returns the message the unit is blocked with.
func (e *ToolsError) Error() string { return ErrTools.Error() + ": " + e.msg }

// Unwrap returns ErrTools.
func (e *ToolsError) Unwrap() error { return ErrTools }

// defaultPackage is the client a Debian/Ubuntu release installs when the
// server's version is not known yet (no tool to ask it with): Ubuntu
// 22.04's is PostgreSQL 14, 24.04's 16 (Charmed PostgreSQL's on each);
// default-mysql-client is MySQL 8.0 on Ubuntu, MariaDB on Debian.
var defaultPackage = map[engine.Kind]string{engine.PostgreSQL: "postgresql-client", engine.MySQL: "default-mysql-client"}

// Find returns the newest complete set of tools of engine kind. When
// server is not nil it is called with that set's folder (to ask the
// server's version with those tools) and the tools must cover the
// server's version; then a complete set of the server's own release is
// returned in its place when there is one: the tools the server ships
// with (Charmed PostgreSQL's snap beside a newer postgresql-client),
// whose archives that server's own pg_restore reads (an archive of a
// newer pg_dump it refuses). A server that cannot be asked leaves the
// newest tools unchecked. The error names what is missing or too old and
// what to install.
func (f ToolFinder) Find(ctx context.Context, kind engine.Kind, server func(ctx context.Context, binDir string) (string, error)) (Tools, error) {
	names, ok := toolNames[kind]
	if !ok {
		return Tools{}, fmt.Errorf("cannot find tools: engine %q is not postgresql or mysql", kind)
	}
	var best *Tools
	var sets []Tools // every complete set, in the order of preference
	var partial []string
	seen := map[string]bool{}
	for _, c := range f.candidates(kind) {
		if seen[c.dir] {
			continue
		}
		seen[c.dir] = true
		paths, missing := lookIn(c.dir, names)
		if len(paths) == 0 {
			continue
		}
		if len(missing) > 0 {
			partial = append(partial, fmt.Sprintf("%s has %s but not %s", c.source, base(paths), strings.Join(missing, ", ")))
			continue
		}
		line, err := versionLine(ctx, paths[0])
		if err != nil {
			partial = append(partial, fmt.Sprintf("%s: %v", c.source, err))
			continue
		}
		v, err := ParseVersion(kind, line)
		if err != nil {
			partial = append(partial, fmt.Sprintf("%s: %v", c.source, err))
			continue
		}
		if best == nil || newer(v, best.Version) {
			best = &Tools{BinDir: c.dir, Source: c.source, Version: v}
		}
		sets = append(sets, Tools{BinDir: c.dir, Source: c.source, Version: v})
	}
	if best == nil {
		msg := fmt.Sprintf("cannot find %s (looked in %s)", want(names), where(kind))
		if len(partial) > 0 {
			msg += ": " + strings.Join(partial, "; ")
		}
		return Tools{}, &ToolsError{msg: msg, Packages: []string{defaultPackage[kind]}}
	}
	if server == nil {
		return *best, nil
	}
	sv, err := server(ctx, best.BinDir)
	if err != nil {
		return *best, nil // the runner's database check reports an unreachable server
	}
	sver, err := ParseVersion(kind, sv)
	if err != nil {
		return *best, nil
	}
	if !best.Version.covers(sver) {
		return *best, &ToolsError{msg: fmt.Sprintf("the newest tools found are %s (%s), the server is %s: install %s",
			best.Version, best.Source, sver, packages(sver)), Packages: []string{packages(sver)}}
	}
	return serversOwn(sets, sver, *best), nil
}

// serversOwn returns the newest of sets of server's own release (see
// sameRelease), the first at equal versions; else newest.
func serversOwn(sets []Tools, server Version, newest Tools) Tools {
	var own *Tools
	for i, t := range sets {
		if t.Version.covers(server) && sameRelease(t.Version, server) && (own == nil || newer(t.Version, own.Version)) {
			own = &sets[i]
		}
	}
	if own == nil {
		return newest
	}
	return *own
}

// sameRelease reports whether tools of version v are of server's release:
// its major for PostgreSQL from 10 on, its major and minor otherwise
// (MySQL 8.0, MariaDB 10.11).
func sameRelease(v, server Version) bool {
	if v.Flavor == "PostgreSQL" && v.Major >= 10 {
		return v.Major == server.Major
	}
	return v.Major == server.Major && v.Minor == server.Minor
}

func newer(a, b Version) bool {
	return a.Major > b.Major || a.Major == b.Major && a.Minor > b.Minor
}

// lookIn finds each program in dir: paths in names' order, and the
// programs missing.
func lookIn(dir string, names [][]string) (paths, missing []string) {
	for _, alts := range names {
		found := ""
		for _, n := range alts {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
				found = p
				break
			}
		}
		if found == "" {
			missing = append(missing, strings.Join(alts, " or "))
			continue
		}
		paths = append(paths, found)
	}
	return paths, missing
}

func versionLine(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cannot run %s --version: %w", path, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

func base(paths []string) string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return strings.Join(out, ", ")
}

func want(names [][]string) string {
	var out []string
	for _, alts := range names {
		out = append(out, strings.Join(alts, " or "))
	}
	return strings.Join(out, ", ")
}

func where(kind engine.Kind) string {
	if kind == engine.PostgreSQL {
		return "the charmed-postgresql snap, /usr/lib/postgresql/<major>/bin and PATH; install postgresql-client-<server major>"
	}
	return "the charmed-mysql snap and PATH; install mariadb-client for MariaDB, mysql-client for MySQL"
}

// WithTools finds the tools of db's server (see ToolFinder.Find), asking
// the server its version with them, and returns db with BinDir set to
// their folder. Its error (wrapping ErrTools) is the unit's blocked
// message.
func WithTools(ctx context.Context, db Database, f ToolFinder) (Database, error) {
	tools, err := f.Find(ctx, db.Engine, func(ctx context.Context, binDir string) (string, error) {
		probe := db
		probe.BinDir = binDir
		e, err := probe.Open()
		if err != nil {
			return "", err
		}
		return e.ServerVersion(ctx)
	})
	if err != nil {
		return db, err
	}
	db.BinDir = tools.BinDir
	return db, nil
}
