package postgres

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
)

// fakeTool is a shell script standing in for a PostgreSQL tool: it records
// its command line and environment, and prints what a real one would.
const fakeTool = `#!/bin/sh
echo "$0 $*" >> "$FAKE_LOG/argv"
env | grep '^PG' >> "$FAKE_LOG/env"
case "$1" in --version) echo "$(basename "$0") (PostgreSQL) 15.99"; exit 0;; esac
case "$(basename "$0")" in
psql) echo "15.99";;
pg_dump) printf 'PGDMP fake archive';;
esac
`

func TestPasswordOnlyInEnvironment(t *testing.T) {
	bin, logs := t.TempDir(), t.TempDir()
	for _, name := range []string{"psql", "pg_dump", "pg_restore", "pg_dumpall"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKE_LOG", logs)
	const canary = "CANARY-7f3a-pw"
	e := New(engine.Conn{Host: "127.0.0.1", Port: 5999, User: "u", Password: canary, Database: "app=x"}, Options{BinDir: bin})
	var out bytes.Buffer
	res, err := e.Backup(context.Background(), engine.BackupSpec{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != "PGDMP fake archive" || res.ServerVersion != "15.99" || res.ToolVersion != "pg_dump (PostgreSQL) 15.99" {
		t.Errorf("got %q, %+v", out.String(), res)
	}
	argv, _ := os.ReadFile(filepath.Join(logs, "argv"))
	env, _ := os.ReadFile(filepath.Join(logs, "env"))
	if strings.Contains(string(argv), canary) {
		t.Errorf("the password is on a command line:\n%s", argv)
	}
	if !strings.Contains(string(argv), "pg_dump --no-password --format=custom --compress=0\n") {
		t.Errorf("pg_dump not run as pg_dump -Fc -Z0 with the database in the environment:\n%s", argv)
	}
	for _, want := range []string{"PGPASSWORD=" + canary, "PGDATABASE=app=x", "PGHOST=127.0.0.1", "PGPORT=5999", "PGUSER=u"} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("environment lacks %s:\n%s", want, env)
		}
	}
}
