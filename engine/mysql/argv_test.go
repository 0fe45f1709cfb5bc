package mysql

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
)

// fakeTool stands in for the MySQL tools: it records its command line, the
// mode and content of the option file named by its first argument, and
// prints what a real one would.
const fakeTool = `#!/bin/sh
echo "$0 $*" >> "$FAKE_LOG/argv"
case "$1" in --version) echo "$(basename "$0")  Ver 8.0 for Linux (MySQL Community Server)"; exit 0;; esac
f="${1#--defaults-extra-file=}"
echo "$f" >> "$FAKE_LOG/files"
stat -c %a "$f" >> "$FAKE_LOG/modes"
cat "$f" >> "$FAKE_LOG/content"
case "$(basename "$0")" in
mysql) cat >/dev/null; echo "8.0.99";;
mysqldump) echo "-- MySQL dump";;
esac
`

// TestMySQLNamesAndOptionFile runs with only the MySQL tool names installed
// and checks that the password travels in a private option file only.
func TestMySQLNamesAndOptionFile(t *testing.T) {
	bin, logs := t.TempDir(), t.TempDir()
	for _, name := range []string{"mysql", "mysqldump"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKE_LOG", logs)
	const canary = `CANARY "q" \b`
	e := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Password: canary, Database: "-app"}, Options{BinDir: bin})
	var out bytes.Buffer
	res, err := e.Backup(context.Background(), engine.BackupSpec{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), headerDatabase+"-- MySQL dump\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if res.Tool != "mysqldump" || res.ServerVersion != "8.0.99" {
		t.Errorf("Result = %+v", res)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(logs, name))
		return string(b)
	}
	argv := read("argv")
	var dump string // the dump's command line
	for _, line := range strings.Split(argv, "\n") {
		if strings.Contains(line, "/mysqldump --defaults-extra-file=") {
			dump = line
		}
	}
	if strings.Contains(argv, "CANARY") || !strings.Contains(dump, "--hex-blob --quick") || !strings.HasSuffix(dump, " -- -app") {
		t.Errorf("command lines:\n%s", argv)
	}
	// Three runs: the version query, the dump, the count of views and the like.
	if modes := strings.Fields(read("modes")); len(modes) != 3 || strings.Count(strings.Join(modes, " "), "600") != 3 {
		t.Errorf("option file modes = %q, want 600 for each of 3 runs", modes)
	}
	if content := read("content"); !strings.Contains(content, `password="CANARY \"q\" \\b"`) {
		t.Errorf("option file content:\n%s", content)
	}
	for _, f := range strings.Fields(read("files")) {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("option file %s left behind", f)
		}
	}
}

// quittingClient is a client that answers queries but leaves a staging
// load without reading it, exit status 0.
const quittingClient = `#!/bin/sh
case "$2" in --version) echo "mariadb  Ver 15.1 Distrib 10.11.6-MariaDB"; exit 0;; esac
case "$*" in *--database=dbbackup_staging_*) exit 0;; esac
cat >/dev/null; echo "10.11.6-MariaDB"
`

// A client that ends well before the end of a staged load must not lead to
// a swap: the rest of the stream was neither loaded nor checked. (The real
// client in --binary-mode takes no \q from the stream; this is the guard
// for any other early exit.)
func TestStagedLoadRefusesAnEarlyExit(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "mariadb"), []byte(quittingClient), 0o755); err != nil {
		t.Fatal(err)
	}
	e := New(engine.Conn{Host: "127.0.0.1", Port: 3999, User: "u", Database: "app"}, Options{BinDir: bin})
	// Larger than the pipe: the feed meets the closed pipe, whenever the
	// client exits.
	stream := headerDatabase + strings.Repeat("INSERT INTO t VALUES (1);\n", 400000)
	_, err := e.Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, strings.NewReader(stream))
	if err == nil || !strings.Contains(err.Error(), "client stopped") {
		t.Fatalf("err = %v, want the client stopped before the end", err)
	}
}
