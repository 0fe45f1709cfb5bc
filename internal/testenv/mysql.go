package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MariaDB is a throwaway MariaDB server on 127.0.0.1, started by
// StartMariaDB and stopped when the test ends.
type MariaDB struct {
	Host     string
	Port     int
	User     string // root, with every privilege, reachable from 127.0.0.1
	Password string // random for each server: usable as a canary
	// Dir holds the data directory, the socket, the server log and the
	// client option file.
	Dir string
	// client is the command-line client (mariadb or mysql).
	client string
	opts   MariaDBOptions
}

// MariaDBOptions are the choices of StartMariaDBWith.
type MariaDBOptions struct {
	// Binlog starts the server with a binary log (--log-bin=mariadb-bin,
	// --binlog-format=ROW, --server-id=1), as point-in-time recovery
	// needs; without it the server runs with --skip-log-bin.
	Binlog bool
}

// mariadbStartTimeout bounds the install and the wait for the server.
const mariadbStartTimeout = 90 * time.Second

// StartMariaDB installs a fresh MariaDB data directory in a temporary
// folder, starts mariadbd (or mysqld) on 127.0.0.1 with password
// authentication for root, and stops it and removes the folder in
// t.Cleanup. Without the server binaries it calls Unavailable.
func StartMariaDB(t T) *MariaDB {
	t.Helper()
	return StartMariaDBWith(t, MariaDBOptions{})
}

// StartMariaDBWith is StartMariaDB with options.
func StartMariaDBWith(t T, opts MariaDBOptions) *MariaDB {
	t.Helper()
	server := findFirst("mariadbd", "/usr/sbin/mariadbd", "mysqld", "/usr/sbin/mysqld")
	install := findFirst("mariadb-install-db", "mysql_install_db")
	client := findFirst("mariadb", "mysql")
	if server == "" || install == "" || client == "" {
		Unavailable(t, "MariaDB server binaries (mariadbd, mariadb-install-db, mariadb) not found; run scripts/install-databases.sh")
	}
	dir, err := os.MkdirTemp("", "dbbackup-mariadb-")
	if err != nil {
		t.Fatalf("cannot make a folder for MariaDB: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	m := &MariaDB{Host: "127.0.0.1", User: "root", Password: "pw-" + dbSecret(12), Dir: dir, client: client, opts: opts}
	userArg := []string{}
	if os.Geteuid() == 0 {
		userArg = []string{"--user=root"}
	}

	ctx, cancel := context.WithTimeout(context.Background(), mariadbStartTimeout)
	defer cancel()
	args := append([]string{"--no-defaults", "--datadir=" + m.dataDir(), "--auth-root-authentication-method=normal",
		"--skip-test-db", "--tmpdir=" + dir}, userArg...)
	if out, err := exec.CommandContext(ctx, install, args...).CombinedOutput(); err != nil {
		t.Fatalf("cannot install a MariaDB data directory: %v\n%s", err, out)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		m.Port = FreePort(t)
		if lastErr = m.start(t, ctx, server, userArg); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("cannot start MariaDB: %v\nserver log:\n%s", lastErr, dbTailFile(m.logFile(), 30))
	}

	// The fresh root has no password and reaches the server by its socket:
	// give it the known password, and a root@127.0.0.1 for TCP clients.
	setup := fmt.Sprintf(`ALTER USER root@localhost IDENTIFIED BY '%[1]s';
CREATE USER IF NOT EXISTS root@'127.0.0.1';
ALTER USER root@'127.0.0.1' IDENTIFIED BY '%[1]s';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
DROP USER IF EXISTS root@'::1';
FLUSH PRIVILEGES;`, m.Password)
	cmd := exec.CommandContext(ctx, client, "--no-defaults", "--socket="+m.socket(), "-uroot")
	cmd.Stdin = strings.NewReader(setup)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot set the MariaDB root password: %v\n%s", err, out)
	}
	opt := fmt.Sprintf("[client]\nuser=%s\npassword=%s\nhost=%s\nport=%d\nprotocol=tcp\n", m.User, m.Password, m.Host, m.Port)
	if err := os.WriteFile(m.OptionFile(), []byte(opt), 0o600); err != nil {
		t.Fatalf("cannot write the client option file: %v", err)
	}
	return m
}

// start runs the server and waits until it answers on its socket, or
// fails with the reason; it registers the stop in t.Cleanup.
func (m *MariaDB) start(t T, ctx context.Context, server string, userArg []string) error {
	args := append([]string{"--no-defaults", "--datadir=" + m.dataDir(), "--socket=" + m.socket(),
		"--port=" + strconv.Itoa(m.Port), "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file=" + filepath.Join(m.Dir, "mariadbd.pid"), "--log-error=" + m.logFile(),
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0", "--max-connections=30",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci",
		"--tmpdir=" + m.Dir}, userArg...)
	if m.opts.Binlog {
		args = append(args, "--log-bin=mariadb-bin", "--binlog-format=ROW", "--server-id=1")
	} else {
		args = append(args, "--skip-log-bin")
	}
	cmd := exec.Command(server, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Logf("MariaDB did not stop in 30 s; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	for {
		ping := exec.CommandContext(ctx, m.client, "--no-defaults", "--socket="+m.socket(), "-uroot", "-e", "SELECT 1")
		if err := ping.Run(); err == nil {
			t.Cleanup(stop)
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("mariadbd exited: %v", err)
		case <-ctx.Done():
			stop()
			return errors.New("mariadbd did not answer in time")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *MariaDB) dataDir() string { return filepath.Join(m.Dir, "data") }
func (m *MariaDB) logFile() string { return filepath.Join(m.Dir, "server.log") }
func (m *MariaDB) socket() string  { return filepath.Join(m.Dir, "mariadbd.sock") }

// OptionFile returns the path of a 0600 client option file holding the
// server's address, user and password, for --defaults-extra-file.
func (m *MariaDB) OptionFile() string { return filepath.Join(m.Dir, "client.cnf") }

// URL returns mysql://root@127.0.0.1:port/db (no password).
func (m *MariaDB) URL(db string) string {
	u := url.URL{Scheme: "mysql", User: url.User(m.User), Host: net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), Path: "/" + db}
	return u.String()
}

// SQL runs sql through the mariadb client in database db ("" for none),
// stopping at the first error, and returns the tab-separated output without
// column names.
func (m *MariaDB) SQL(t T, db, sql string) string {
	t.Helper()
	out, err := m.Exec(db, sql)
	if err != nil {
		t.Fatalf("mariadb on %q: %v", db, err)
	}
	return out
}

// Exec is SQL without a test: it returns the client's error and stderr.
func (m *MariaDB) Exec(db, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := []string{"--defaults-extra-file=" + m.OptionFile(), "--batch", "--skip-column-names", "--raw", "--default-character-set=utf8mb4"}
	if db != "" {
		args = append(args, "--database="+db)
	}
	cmd := exec.CommandContext(ctx, m.client, args...)
	cmd.Stdin = strings.NewReader(sql)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// mariadbSystemSchemas are left out of Databases and Checksums.
const mariadbSystemSchemas = "'mysql', 'information_schema', 'performance_schema', 'sys'"

// Databases returns the user databases, sorted.
func (m *MariaDB) Databases(t T) []string {
	t.Helper()
	return strings.Fields(m.SQL(t, "", "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ("+
		mariadbSystemSchemas+") ORDER BY 1"))
}

// Checksums returns a TableSum for every base table of database db (all
// user databases when db is empty), keyed by db.table: the row count and
// CHECKSUM TABLE ... EXTENDED, plus the next AUTO_INCREMENT value as
// "auto_increment db.table".
func (m *MariaDB) Checksums(t T, db string) map[string]TableSum {
	t.Helper()
	where := "table_schema NOT IN (" + mariadbSystemSchemas + ")"
	if db != "" {
		where = "table_schema = '" + strings.ReplaceAll(db, "'", "''") + "'"
	}
	list := m.SQL(t, "", "SELECT table_schema, table_name, coalesce(auto_increment, 0) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND "+
		where+" ORDER BY 1, 2")
	sums := map[string]TableSum{}
	var q strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		name := f[0] + "." + f[1]
		quoted := "`" + strings.ReplaceAll(f[0], "`", "``") + "`.`" + strings.ReplaceAll(f[1], "`", "``") + "`"
		if f[2] != "0" {
			sums["auto_increment "+name] = TableSum{Rows: 1, Sum: f[2]}
		}
		fmt.Fprintf(&q, "SELECT '%s', COUNT(*), 0 FROM %s;\nCHECKSUM TABLE %s EXTENDED;\n",
			strings.ReplaceAll(name, "'", "''"), quoted, quoted)
	}
	if q.Len() == 0 {
		return sums
	}
	// Output alternates: "name rows 0" then "name checksum".
	lines := strings.Split(strings.TrimSpace(m.SQL(t, "", q.String())), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		count := strings.Split(lines[i], "\t")
		sum := strings.Split(lines[i+1], "\t")
		if len(count) != 3 || len(sum) != 2 {
			t.Fatalf("cannot read checksum lines %q %q", lines[i], lines[i+1])
		}
		n, err := strconv.ParseInt(count[1], 10, 64)
		if err != nil {
			t.Fatalf("cannot read row count in %q", lines[i])
		}
		sums[count[0]] = TableSum{Rows: n, Sum: sum[1]}
	}
	return sums
}

// findFirst returns the path of the first program found, or "".
func findFirst(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// StagingLeftovers lists what a staged restore (engine/mysql) would leave
// behind if it failed to clean up: dbbackup_staging_* databases and
// dbbackup_old_* tables, one per line; empty when there are none.
func (m *MariaDB) StagingLeftovers(t T) string {
	t.Helper()
	return m.SQL(t, "", `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'dbbackup\_staging\_%'
UNION ALL SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_name LIKE 'dbbackup\_old\_%'`)
}
