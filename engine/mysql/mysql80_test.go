package mysql

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// No registry reachable here ships a MySQL 8.0 server or its tools, so
// these tests run the engine against stand-ins for MySQL 8.0's mysql,
// mysqldump and mysqlbinlog. Each stand-in answers --version as 8.0 does,
// refuses, as the real program does ("unknown option"), every option that
// program does not have in 8.0 (MariaDB's own included), records its
// command line (arguments separated by tabs), its TZ and its standard
// input, and answers the engine's queries as a MySQL 8.0 server with
// GTIDs on would. Each record is one write to a file opened for appending,
// so that two stand-ins running at once (mysqlbinlog piped into mysql)
// never interleave their lines.

// mysql80Options are, per program, the options of MySQL 8.0 the engine may
// pass (a subset of what each accepts; the engine passes nothing else).
var mysql80Options = map[string][]string{
	"mysql": {"--defaults-extra-file", "--batch", "--skip-column-names", "--raw", "--connect-timeout",
		"--default-character-set", "--database", "--binary-mode", "--max-allowed-packet", "--init-command"},
	"mysqldump": {"--defaults-extra-file", "--single-transaction", "--routines", "--triggers", "--events",
		"--hex-blob", "--quick", "--default-character-set", "--max-allowed-packet", "--master-data",
		"--source-data", "--set-gtid-purged", "--databases"},
	"mysqlbinlog": {"--defaults-extra-file", "--verify-binlog-checksum", "--start-position", "--stop-datetime",
		"--database", "--read-from-remote-server", "--raw", "--stop-never", "--result-file"},
}

// mysql80Tool is the stand-in: $1 of the script is its allowed options.
const mysql80Tool = `#!/bin/sh
name="$(basename "$0")"
case "$1" in --version) echo "$name  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)"; exit 0;; esac
seen_end=""
for a in "$@"; do
	[ -n "$seen_end" ] && continue
	case "$a" in
	--) seen_end=1; continue;;
	--*) opt="${a%%=*}"
		case " $ALLOWED " in *" $opt "*) ;; *) echo "$name: [ERROR] unknown option '$opt'." >&2; exit 7;; esac;;
	esac
done
tab="$(printf '\t')"
line="$name"
for a in "$@"; do line="$line$tab$a"; done
printf '%s\n' "$line" >> "$FAKE_LOG/argv"
echo "$name TZ=$TZ" >> "$FAKE_LOG/env"
case "$name" in
mysqldump) echo "-- MySQL dump 10.13  Distrib 8.0.36"
	case " $* " in
	*" --set-gtid-purged=OFF "*) ;;
	*) echo "SET @@SESSION.SQL_LOG_BIN= 0;"; echo "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5';";;
	esac;;
mysqlbinlog)
	case " $* " in
	*" --stop-never "*) sleep 60;;
	*) echo "INSERT INTO t VALUES (1);";;
	esac;;
mysql)
	sql="$(cat)"
	printf '%s\n' "$sql" >> "$FAKE_LOG/sql"
	case "$sql" in
	*"SELECT VERSION()"*) echo "8.0.36";;
	*"HEX(schema_name)"*) echo "617070"; echo "73686F70";;
	*"is_role"*) echo "ERROR 1054 (42S22) at line 1: Unknown column 'is_role' in 'field list'" >&2; exit 1;;
	*"@@log_bin"*) echo "1";;
	*"SCHEMATA WHERE SCHEMA_NAME"*) echo "1";;
	*"SHOW CREATE DATABASE"*) printf 'app\tCREATE DATABASE \140app\140 /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci */ /*!80016 DEFAULT ENCRYPTION=\047N\047 */\n';;
	*"SHOW BINARY LOGS"*) printf 'binlog.000001\t157\tNo\n';;
	esac;;
esac
`

// mysql80 installs the stand-ins in a folder and returns it and the folder
// of their records.
func mysql80(t *testing.T) (bin, logs string) {
	t.Helper()
	bin, logs = t.TempDir(), t.TempDir()
	for name, opts := range mysql80Options {
		script := strings.Replace(mysql80Tool, "#!/bin/sh\n", "#!/bin/sh\nALLOWED='"+strings.Join(opts, " ")+"'\n", 1)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKE_LOG", logs)
	return bin, logs
}

// runsOf returns the recorded command lines of program name that connect
// to the server, each less its first argument (the option file).
func runsOf(t *testing.T, logs, name string) [][]string {
	t.Helper()
	return recordedRuns(t, logs, name, true)
}

// recordedRuns returns the recorded command lines of program name; with
// optionFile, those whose first argument is the option file, less it.
func recordedRuns(t *testing.T, logs, name string, optionFile bool) [][]string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(logs, "argv"))
	var runs [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if f[0] != name {
			continue
		}
		hasFile := len(f) > 1 && strings.HasPrefix(f[1], "--defaults-extra-file=")
		switch {
		case hasFile && optionFile:
			runs = append(runs, f[2:])
		case !hasFile && !optionFile:
			runs = append(runs, f[1:])
		}
	}
	return runs
}

// TestMySQL80Backup: a backup of a MySQL 8.0 server runs mysqldump with
// the engine's options alone (no binary log position: mysqldump would take
// it under FLUSH TABLES WITH READ LOCK) and --set-gtid-purged=OFF, so the
// dump neither sets GTID_PURGED (a restore into a server with executed
// transactions would fail on it) nor turns binary logging off for the load
// (the restored rows would not reach the other members of a group);
// records no position, and for all databases lists them and keeps the
// backup when the accounts cannot be read (MySQL's mysql.user has no
// is_role).
func TestMySQL80Backup(t *testing.T) {
	bin, logs := mysql80(t)
	ctx := context.Background()
	one := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: "pw", Database: "app"}, Options{BinDir: bin})
	var out bytes.Buffer
	res, err := one.Backup(ctx, engine.BackupSpec{}, &out)
	if err != nil {
		t.Fatalf("backup of one database: %v", err)
	}
	if res.Tool != "mysqldump" || res.ServerVersion != "8.0.36" || res.Binlog != nil || !strings.Contains(res.ToolVersion, "8.0.36") {
		t.Errorf("result %+v, want mysqldump 8.0.36 of an 8.0.36 server, no position", res)
	}
	dumps := runsOf(t, logs, "mysqldump")
	want := append(slices.Clone(dumpArgs), "--set-gtid-purged=OFF", "--", "app")
	if len(dumps) != 1 || !slices.Equal(dumps[0], want) {
		t.Errorf("mysqldump runs %q, want one with %q", dumps, want)
	}
	if !strings.HasPrefix(out.String(), headerDatabase+"-- MySQL dump") {
		t.Errorf("the stream starts %q", out.String()[:min(80, out.Len())])
	}
	if s := out.String(); strings.Contains(s, "GTID_PURGED") || strings.Contains(s, "SQL_LOG_BIN") {
		t.Errorf("the dump sets GTID_PURGED or SQL_LOG_BIN:\n%s", s)
	}

	var logBuf bytes.Buffer
	all := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: "pw"}, Options{BinDir: bin})
	out.Reset()
	res, err = all.Backup(ctx, engine.BackupSpec{Log: &logBuf}, &out)
	if err != nil {
		t.Fatalf("backup of all databases: %v", err)
	}
	dumps = runsOf(t, logs, "mysqldump")
	want = append(slices.Clone(dumpArgs), "--set-gtid-purged=OFF", "--databases", "--", "app", "shop")
	if len(dumps) != 2 || !slices.Equal(dumps[1], want) {
		t.Errorf("mysqldump runs %q, want the second with %q", dumps, want)
	}
	if !slices.Equal(res.Databases, []string{"app", "shop"}) || res.Binlog != nil {
		t.Errorf("result %+v, want databases app, shop and no position", res)
	}
	if s := out.String(); !strings.HasPrefix(s, headerAll) || !strings.Contains(s, "-- accounts and grants not backed up: ") {
		t.Errorf("the stream of all databases, without readable accounts:\n%s", s)
	}
	if !strings.Contains(logBuf.String(), "is_role") {
		t.Errorf("the log does not say why the accounts are not in the backup:\n%s", logBuf.String())
	}
}

// TestMySQL80Restore: the restore of one database makes the database again
// from MySQL 8.0's SHOW CREATE DATABASE and loads through the MySQL 8.0
// client with options it has (not MariaDB's --skip-print-query-on-error,
// which it refuses), into the database named.
func TestMySQL80Restore(t *testing.T) {
	bin, logs := mysql80(t)
	e := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: "pw", Database: "app"}, Options{BinDir: bin})
	stream := headerDatabase + "CREATE TABLE t (i int);\nINSERT INTO t VALUES (1);\n"
	res, err := e.Restore(context.Background(), engine.RestoreSpec{}, strings.NewReader(stream))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !slices.Equal(res.Databases, []string{"app"}) {
		t.Errorf("restored %q, want app", res.Databases)
	}
	want := []string{"--batch", "--binary-mode", "--default-character-set=utf8mb4", maxPacket, "--database=app"}
	var loads int
	for _, run := range runsOf(t, logs, "mysql") {
		if slices.Contains(run, "--binary-mode") {
			loads++
			if !slices.Equal(run, want) {
				t.Errorf("the load ran with %q, want %q", run, want)
			}
		}
	}
	if loads != 1 {
		t.Errorf("%d loads, want 1", loads)
	}
	sql, _ := os.ReadFile(filepath.Join(logs, "sql"))
	// The database is made again as MySQL 8.0 describes it, its
	// version-gated comments included.
	recreate := "DROP DATABASE `app`;\nCREATE DATABASE `app` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci */ /*!80016 DEFAULT ENCRYPTION='N' */;\n"
	if !strings.Contains(string(sql), recreate) || !strings.Contains(string(sql), "INSERT INTO t VALUES (1);") {
		t.Errorf("the client did not get the database made again and the backup's statements:\n%s", sql)
	}
}

// TestMySQL80Replay: a restore to a time replays with MySQL 8.0's
// mysqlbinlog (checksums verified, from the backup's position, up to the
// time in UTC, one database) into the client with binary logging off for
// its session; CheckReplay tries that setting first.
func TestMySQL80Replay(t *testing.T) {
	bin, logs := mysql80(t)
	e := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: "pw"}, Options{BinDir: bin})
	ctx := context.Background()
	if err := e.CheckReplay(ctx); err != nil {
		t.Fatalf("CheckReplay: %v", err)
	}
	dir := t.TempDir()
	chain := BinlogChain{Paths: []string{filepath.Join(dir, "binlog.000001"), filepath.Join(dir, "binlog.000002")}}
	stop := time.Date(2026, 3, 1, 12, 30, 45, 0, time.FixedZone("CET", 3600))
	err := e.ReplayBinlogs(ctx, ReplaySpec{Chain: chain, Start: engine.BinlogPosition{File: "binlog.000001", Position: 4711},
		Stop: stop, Database: "app"})
	if err != nil {
		t.Fatalf("ReplayBinlogs: %v", err)
	}
	runs := recordedRuns(t, logs, "mysqlbinlog", false) // it reads local files
	want := []string{"--verify-binlog-checksum", "--start-position=4711", "--stop-datetime=2026-03-01 11:30:45",
		"--database=app", "--", chain.Paths[0], chain.Paths[1]}
	if len(runs) != 1 || !slices.Equal(runs[0], want) {
		t.Errorf("mysqlbinlog runs %q, want one with %q (the time in UTC)", runs, want)
	}
	if env, _ := os.ReadFile(filepath.Join(logs, "env")); !strings.Contains(string(env), "mysqlbinlog TZ=UTC\n") {
		t.Errorf("mysqlbinlog ran without TZ=UTC: %s", env)
	}
	var replay []string
	for _, run := range runsOf(t, logs, "mysql") {
		if slices.ContainsFunc(run, func(a string) bool { return strings.HasPrefix(a, "--init-command=") }) {
			replay = run
		}
	}
	if want := []string{"--batch", "--binary-mode", "--init-command=SET SESSION sql_log_bin=0", maxPacket}; !slices.Equal(replay, want) {
		t.Errorf("the replay's client ran with %q, want %q", replay, want)
	}
	sql, _ := os.ReadFile(filepath.Join(logs, "sql"))
	if !strings.Contains(string(sql), "SET SESSION sql_log_bin=0") || !strings.Contains(string(sql), "INSERT INTO t VALUES (1);") {
		t.Errorf("the client did not get CheckReplay's setting and mysqlbinlog's output:\n%s", sql)
	}
}

// TestMySQL80Archive: the binary log archiver asks MySQL 8.0 for its logs
// (SHOW BINARY LOGS has a third column, Encrypted) and fetches them with
// mysqlbinlog from the oldest, raw, without end.
func TestMySQL80Archive(t *testing.T) {
	bin, logs := mysql80(t)
	e := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: "pw"}, Options{BinDir: bin})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.ArchiveBinlogs(ctx, ArchiveSpec{Sink: emptySink{}, Dir: t.TempDir(), Log: io.Discard})
	}()
	var runs [][]string
	for deadline := time.Now().Add(20 * time.Second); len(runs) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(logs, "argv"))
		if strings.Contains(string(b), "mysqlbinlog\t") {
			runs = runsOf(t, logs, "mysqlbinlog")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ArchiveBinlogs did not stop within 30 s of its cancel")
	}
	if len(runs) != 1 || len(runs[0]) != 5 {
		t.Fatalf("mysqlbinlog runs %q, want one", runs)
	}
	r := runs[0]
	if r[0] != "--read-from-remote-server" || r[1] != "--raw" || r[2] != "--stop-never" ||
		!strings.HasPrefix(r[3], "--result-file=") || !strings.HasSuffix(r[3], "/") || r[4] != "binlog.000001" {
		t.Errorf("mysqlbinlog ran with %q, want --read-from-remote-server --raw --stop-never --result-file=<dir>/ binlog.000001", r)
	}
}

// emptySink is an archive with nothing in it that stores nothing.
type emptySink struct{}

func (emptySink) Archived(context.Context) ([]BinlogPiece, error) {
	return nil, nil
}
func (emptySink) Put(context.Context, BinlogPiece, io.Reader) error { return nil }
func (emptySink) Delete(context.Context, BinlogPiece) error         { return nil }
