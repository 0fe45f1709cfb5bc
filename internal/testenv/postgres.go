package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Postgres is a throwaway PostgreSQL server on 127.0.0.1, started by
// StartPostgres and stopped when the test ends.
type Postgres struct {
	Host     string
	Port     int
	User     string // a superuser
	Password string // random for each server: usable as a canary
	// BinDir holds the client tools (psql, pg_dump, pg_restore, pgbench,
	// ...): those of PostgresBinDir.
	BinDir string
	// ServerBinDir holds the server's programs (initdb, pg_ctl,
	// postgres): BinDir for StartPostgres, another folder for
	// StartPostgresAt.
	ServerBinDir string
	// Dir holds the data directory, the socket and the server log.
	Dir string
	// runAs is the unprivileged user the server runs as when we are root.
	runAs string
	// opts are the server's command-line options (pg_ctl -o).
	opts string
}

// pgStartTimeout bounds initdb and the server start.
const pgStartTimeout = 90 * time.Second

// StartPostgres starts a PostgreSQL server in a temporary folder with
// password (scram-sha-256) authentication for the superuser "postgres", and
// stops it (fast shutdown) and removes the folder in t.Cleanup. Without the
// PostgreSQL server binaries it calls Unavailable. Running as root, the
// server runs as the "postgres" user, since initdb refuses root.
func StartPostgres(t T) *Postgres {
	t.Helper()
	bin := PostgresBinDir()
	if bin == "" {
		Unavailable(t, "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; run scripts/install-databases.sh")
	}
	return startPostgres(t, bin, bin)
}

// StartPostgresAt is StartPostgres with the server programs (initdb,
// pg_ctl, postgres) of serverBin, another PostgreSQL version's, such as
// PostgresServerBinDir(14); the client tools are those of
// PostgresClientBinDir for the server's major: the lowest major at least
// the server's (pg_dump dumps servers older than itself, never newer).
// Without these programs or tools it calls Unavailable.
func StartPostgresAt(t T, serverBin string) *Postgres {
	t.Helper()
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(serverBin, name)); err != nil {
			Unavailable(t, "PostgreSQL server program %s not found in %s (scripts/install-postgres-npm.sh installs PostgreSQL 14's and 16's)", name, serverBin)
		}
	}
	major, err := programMajor(filepath.Join(serverBin, "postgres"))
	if err != nil {
		t.Fatalf("cannot tell the PostgreSQL server's version in %s: %v", serverBin, err)
	}
	client := PostgresClientBinDir(major)
	if client == "" {
		Unavailable(t, "PostgreSQL client tools of major %d or newer not found under /usr/lib/postgresql/*/bin nor %s/postgresql-*/bin; run scripts/install-databases.sh and scripts/install-postgres-npm.sh", major, CacheDir())
	}
	return startPostgres(t, serverBin, client)
}

// startPostgres starts the server of serverBin, with the client tools of
// clientBin.
func startPostgres(t T, serverBin, clientBin string) *Postgres {
	t.Helper()
	p := &Postgres{Host: "127.0.0.1", User: "postgres", Password: "pw-" + dbSecret(12), BinDir: clientBin, ServerBinDir: serverBin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			Unavailable(t, "running as root and no 'postgres' user to run the server as: %v", err)
		}
		p.runAs = "postgres"
	}
	dir, err := os.MkdirTemp("", "dbbackup-pg-")
	if err != nil {
		t.Fatalf("cannot make a folder for PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p.Dir = dir
	// The server user must reach its data directory: make the folder
	// traversable and give it to that user.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("cannot make %s traversable: %v", dir, err)
	}
	p.reachServer(t)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		t.Fatalf("cannot write the password file: %v", err)
	}
	if p.runAs != "" {
		if err := chownTree(dir, p.runAs); err != nil {
			t.Fatalf("cannot give %s to %s: %v", dir, p.runAs, err)
		}
	}
	p.run(t, "initdb", "-D", p.dataDir(), "-U", p.User, "--auth=scram-sha-256",
		"--pwfile="+pwfile, "-E", "UTF8", "--locale=C", "-N")
	_ = os.Remove(pwfile)

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p.Port = FreePort(t)
		opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off "+
			"-c full_page_writes=off -c shared_buffers=32MB -c max_connections=30 -c logging_collector=off",
			p.Port, dir)
		p.opts = opts
		lastErr = p.try("pg_ctl", "-D", p.dataDir(), "-l", p.logFile(), "-w", "-t", "60", "-o", opts, "start")
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("cannot start PostgreSQL: %v\nserver log:\n%s", lastErr, dbTailFile(p.logFile(), 30))
	}
	t.Cleanup(func() {
		if err := p.try("pg_ctl", "-D", p.dataDir(), "-m", "fast", "-w", "-t", "30", "stop"); err != nil {
			t.Logf("cannot stop PostgreSQL: %v", err)
		}
	})
	return p
}

// PostgresBinDir returns the newest /usr/lib/postgresql/<major>/bin holding
// initdb and pg_ctl, or "" when there is none.
func PostgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err != nil {
			continue
		}
		if major > bestMajor {
			best, bestMajor = d, major
		}
	}
	return best
}

func (p *Postgres) dataDir() string { return filepath.Join(p.Dir, "data") }
func (p *Postgres) logFile() string { return filepath.Join(p.Dir, "server.log") }

// chownTree gives dir and everything in it to the named user.
func chownTree(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// reachServer makes sure the server user can run the server's programs:
// a tree under a folder only root may enter (a clone under /root, say) is
// copied, whole, into the server's temporary folder.
func (p *Postgres) reachServer(t T) {
	t.Helper()
	if p.runAs == "" || p.try("postgres", "--version") == nil {
		return
	}
	tree := filepath.Dir(p.ServerBinDir)
	copied := filepath.Join(p.Dir, "server")
	ctx, cancel := context.WithTimeout(context.Background(), pgStartTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "cp", "-a", tree, copied).CombinedOutput(); err != nil {
		t.Fatalf("cannot copy the PostgreSQL server in %s where the %s user reaches it: %v\n%s", tree, p.runAs, err, out)
	}
	p.ServerBinDir = filepath.Join(copied, filepath.Base(p.ServerBinDir))
	if err := p.try("postgres", "--version"); err != nil {
		t.Fatalf("the %s user cannot run the PostgreSQL server, even copied to %s: %v", p.runAs, copied, err)
	}
}

// try runs one of the server's programs as the server user, bounded in
// time.
func (p *Postgres) try(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), pgStartTimeout)
	defer cancel()
	argv := append([]string{filepath.Join(p.ServerBinDir, name)}, args...)
	if p.runAs != "" {
		argv = append([]string{"runuser", "-u", p.runAs, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", name, err, out)
	}
	return nil
}

func (p *Postgres) run(t T, name string, args ...string) {
	t.Helper()
	if err := p.try(name, args...); err != nil {
		t.Fatalf("cannot set up PostgreSQL: %v", err)
	}
}

// URL returns postgres://user@127.0.0.1:port/db (no password).
func (p *Postgres) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(p.User), Host: net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), Path: "/" + db}
	return u.String()
}

// Env returns the libpq environment that reaches the server, password
// included, for the client tools.
func (p *Postgres) Env() []string {
	return append(os.Environ(), "PGHOST="+p.Host, "PGPORT="+strconv.Itoa(p.Port),
		"PGUSER="+p.User, "PGPASSWORD="+p.Password, "PGCONNECT_TIMEOUT=10")
}

// SQL runs sql through psql against database db (stopping at the first
// error) and returns the unaligned, tuples-only output.
func (p *Postgres) SQL(t T, db, sql string) string {
	t.Helper()
	out, err := p.Exec(db, sql)
	if err != nil {
		t.Fatalf("psql on %s: %v", db, err)
	}
	return out
}

// Exec is SQL without a test: it returns psql's error and stderr.
func (p *Postgres) Exec(db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, "psql"), "-X", "-q", "-A", "-t",
		"-v", "ON_ERROR_STOP=1", "-d", db)
	cmd.Env = p.Env()
	cmd.Stdin = strings.NewReader(sql)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Pgbench creates database db (when missing) and fills it with pgbench -i
// at the given scale (100,000 accounts per unit).
func (p *Postgres) Pgbench(t T, db string, scale int) {
	t.Helper()
	if strings.TrimSpace(p.SQL(t, "postgres", fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", db))) == "" {
		p.SQL(t, "postgres", fmt.Sprintf(`CREATE DATABASE %q`, db))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, "pgbench"), "-i", "-q", "-s", strconv.Itoa(scale), db)
	cmd.Env = p.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i: %v\n%s", err, out)
	}
}

// pgSumsSQL lists, for every table outside the system schemas, its row
// count and the md5 of its rows as text in a fixed order; and for every
// sequence its last value.
const pgSumsSQL = `SELECT format('SELECT %L, count(*), coalesce(md5(string_agg(t::text, E''\n'' ORDER BY t::text)), '''') FROM %I.%I t',
       schemaname || '.' || tablename, schemaname, tablename)
  FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
\gexec
SELECT 'sequence ' || schemaname || '.' || sequencename, 1, coalesce(last_value::text, 'unused')
  FROM pg_sequences ORDER BY 1;
`

// Checksums returns a TableSum for every table (and sequence) of database
// db, keyed by schema.table.
func (p *Postgres) Checksums(t T, db string) map[string]TableSum {
	t.Helper()
	return parseSums(t, p.SQL(t, db, pgSumsSQL), "|")
}

// Databases returns the names of the databases users can connect to,
// sorted, templates excluded.
func (p *Postgres) Databases(t T) []string {
	t.Helper()
	out := strings.Fields(p.SQL(t, "postgres", "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"))
	return out
}

// TableSum is a table's row count and a checksum of its content.
type TableSum struct {
	Rows int64
	Sum  string
}

// parseSums reads "name<sep>rows<sep>sum" lines.
func parseSums(t T, out, sep string) map[string]TableSum {
	t.Helper()
	sums := map[string]TableSum{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, sep)
		if len(f) != 3 {
			t.Fatalf("cannot read checksum line %q", line)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("cannot read row count in %q", line)
		}
		sums[f[0]] = TableSum{Rows: n, Sum: f[2]}
	}
	return sums
}

// DiffSums lists how got differs from want, one line per table, sorted;
// empty when they are identical.
func DiffSums(want, got map[string]TableSum) []string {
	var diffs []string
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing (want %d rows)", name, w.Rows))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: got %d rows sum %s, want %d rows sum %s", name, g.Rows, g.Sum, w.Rows, w.Sum))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected (%d rows)", name, g.Rows))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// dbSecret returns n random bytes in hex.
func dbSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dbTailFile returns the last n lines of a file, for failure messages.
func dbTailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
