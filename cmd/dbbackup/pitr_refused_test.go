package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestMariaDBWithoutBinlog: a server without a binary log is backed up as
// before, with no position in the manifest; archive-binlog says log_bin is
// off, and a restore to a time from that backup is refused.
func TestMariaDBWithoutBinlog(t *testing.T) {
	db := testenv.StartMariaDB(t)
	s := newS3Fixture(t)
	t.Setenv("MYSQL_PWD", db.Password)
	db.SQL(t, "", "CREATE DATABASE shop; CREATE TABLE shop.t (id int PRIMARY KEY); INSERT INTO shop.t VALUES (1)")
	code, out, errOut := runCLI(t, "", "backup", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--scope", "my", "--job-id", "plain")
	if code != 0 {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "list", "--storage-config", s.cfgFile, "--json")
	if code != 0 || !strings.Contains(out, `"job-id": "plain"`) || strings.Contains(out, "binlog") || strings.Contains(out, "recoverable") {
		t.Fatalf("list: code %d\n%s", code, out)
	}
	code, out, errOut = runCLI(t, "", "archive-binlog", "--database-url", db.URL(""), "--storage-config", s.cfgFile, "--scope", "my")
	if code != 1 || !strings.Contains(errOut, "log_bin is OFF") {
		t.Fatalf("archive-binlog without log_bin: code %d\n%s%s", code, out, errOut)
	}
	before := db.Dump(t, "shop")
	code, out, errOut = runCLI(t, "", "restore", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile,
		"--artefact-path", "prod/my/plain/", "--restore-to-time", time.Now().UTC().Format(time.RFC3339))
	if code != 1 || !strings.Contains(errOut, "records no binary log position") {
		t.Fatalf("restore to a time from a backup without a position: code %d\n%s%s", code, out, errOut)
	}
	if db.Dump(t, "shop") != before {
		t.Fatal("the refused restore changed the database")
	}
}

// TestPointInTimeCommandLineRefused: unusable flags of archive-binlog and
// restore --restore-to-time exit 2 and name the flag, before any
// connection.
func TestPointInTimeCommandLineRefused(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "s3.yaml")
	if err := os.WriteFile(cfg, []byte("bucket: b\nendpoint: http://127.0.0.1:1\naccess-key: a\nsecret-key: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "mysql://root@127.0.0.1:1/"
	restore := []string{"restore", "--engine", "mysql", "--database-url", url + "shop", "--storage-config", cfg}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"archive-binlog", "--database-url", url, "--storage-config", cfg}, "--scope is required"},
		{[]string{"archive-binlog", "--database-url", url + "shop", "--storage-config", cfg, "--scope", "my"}, `--database-url names database "shop"`},
		{[]string{"archive-binlog", "--database-url", "postgres://u@127.0.0.1:1/", "--storage-config", cfg, "--scope", "my"}, "--database-url is a postgresql URL"},
		{[]string{"archive-binlog", "--database-url", url, "--storage-config", cfg, "--scope", "../x"}, "invalid --scope"},
		{[]string{"archive-binlog", "--database-url", url, "--scope", "my"}, "--storage-config FILE is required"},
		{[]string{"archive-binlog", "--database-url", url, "--storage-config", cfg, "--scope", "my", "extra"}, "unexpected argument"},
		{[]string{"archive-binlog", "--database-url", url, "--storage-config", cfg, "--scope", "my", "--piece-size", "1023"}, "--piece-size 1023: must be 1024 to 1073741824 bytes"},
		{[]string{"archive-binlog", "--database-url", url, "--storage-config", cfg, "--scope", "my", "--piece-size", "1073741825"}, "--piece-size 1073741825"},
		{append(restore, "--scope", "my", "--restore-to-time", "yesterday"), `--restore-to-time "yesterday": not an RFC 3339 time`},
		{append(restore, "--scope", "my", "--restore-to-time", "1960-01-01T00:00:00Z"), "out of the range"},
		{append(restore, "--restore-to-time", "2026-01-01T00:00:00Z"), "needs --artefact-path"},
		{append(restore, "--scope", "my", "--artefact-path", "p/my/j", "--restore-to-time", "2026-01-01T00:00:00Z"), "not both"},
		{append(restore, "--scope", "my"), "--scope is only for --restore-to-time"},
		{append(restore, "--scope", "a/b", "--restore-to-time", "2026-01-01T00:00:00Z"), "invalid --scope"},
		{[]string{"restore", "--engine", "postgresql", "--database-url", "postgres://u@127.0.0.1:1/x", "--storage-config", cfg, "--scope", "pg", "--restore-to-time", "2026-01-01T00:00:00Z"}, "--database-url is not taken by a physical restore"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, want 2 and %q\n%s%s", tc.args, code, tc.want, out, errOut)
		}
	}
}
