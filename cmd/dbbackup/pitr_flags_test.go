package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPITRExitCodes holds the point-in-time flags and commands to the
// exit-code rule: an unusable command line exits 2 naming the flag or
// argument, before any database, store or data directory is touched.
func TestPITRExitCodes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(cfg, []byte("bucket: backups\naccess-key: AKCANARY\nsecret-key: SKCANARY\nendpoint: http://127.0.0.1:1\ns3-uri-style: path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(filepath.Join(full, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	pgURL := "postgres://u@127.0.0.1:1/"
	bk := func(extra ...string) []string {
		return append([]string{"backup", "--engine", "postgresql", "--database-url", pgURL, "--storage-config", cfg, "--method", "physical"}, extra...)
	}
	rs := func(extra ...string) []string {
		return append([]string{"restore", "--engine", "postgresql", "--storage-config", cfg}, extra...)
	}
	aw := func(extra ...string) []string {
		return append([]string{"archive-wal", "--database-url", pgURL, "--storage-config", cfg, "--scope", "app"}, extra...)
	}
	wf := func(extra ...string) []string {
		return append([]string{"wal-fetch", "--storage-config", cfg, "--scope", "app"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"backup: invalid --method", bk("--method", "incremental"), `--method must be logical or physical, got "incremental"`},
		{"backup: physical MariaDB", []string{"backup", "--engine", "mysql", "--database-url", "mysql://u@h/", "--storage-config", cfg, "--method", "physical"}, "--method physical is for --engine postgresql"},
		{"backup: physical of one database", bk("--database-url", "postgres://u@h/db"), "give no database name"},

		{"restore: relative --pgdata", rs("--artefact-path", "p/s/j", "--pgdata", "data"), `--pgdata: data directory "data" must be an absolute path`},
		{"restore: non-empty --pgdata", rs("--artefact-path", "p/s/j", "--pgdata", full), "--pgdata: data directory " + full + " is not empty (it holds base)"},
		{"restore: garbage --restore-to-time", rs("--artefact-path", "p/s/j", "--pgdata", empty, "--restore-to-time", "yesterday"), `--restore-to-time "yesterday" is not an RFC 3339 time`},
		{"restore: time without zone", rs("--artefact-path", "p/s/j", "--pgdata", empty, "--restore-to-time", "2026-12-04 12:00:00"), "is not an RFC 3339 time"},
		{"restore: --restore-to-time without --pgdata", rs("--artefact-path", "p/s/j", "--restore-to-time", "2026-12-04T12:00:00Z"), "--pgdata DIR is required"},
		{"restore: --pgdata and --database-url", rs("--artefact-path", "p/s/j", "--pgdata", empty, "--database-url", pgURL), "--database-url is not taken by a physical restore"},
		{"restore: --pgdata for MariaDB", []string{"restore", "--engine", "mysql", "--storage-config", cfg, "--artefact-path", "p/s/j", "--pgdata", empty}, "are for --engine postgresql"},
		{"restore: neither --artefact-path nor --scope", rs("--pgdata", empty), "give exactly one of --artefact-path and --scope"},
		{"restore: both --artefact-path and --scope", rs("--pgdata", empty, "--artefact-path", "p/s/j", "--scope", "s"), "give exactly one of"},
		{"restore: invalid --scope", rs("--pgdata", empty, "--scope", "../s"), `invalid --scope: scope "../s"`},
		{"restore: invalid --artefact-path", rs("--pgdata", empty, "--artefact-path", "a/../b"), "--artefact-path: must not contain"},
		{"restore: relative --storage-config", []string{"restore", "--engine", "postgresql", "--storage-config", "s3.yaml", "--scope", "s", "--pgdata", empty}, `--storage-config "s3.yaml" must be an absolute path`},
		{"restore: relative --encryption-key-file", rs("--scope", "s", "--pgdata", empty, "--encryption-key-file", "key"), `--encryption-key-file "key" must be an absolute path`},

		{"archive-wal: no --scope", []string{"archive-wal", "--database-url", pgURL, "--storage-config", cfg}, "--scope is required"},
		{"archive-wal: invalid --scope", aw("--scope", "a b"), "invalid --scope"},
		{"archive-wal: database in the URL", aw("--database-url", "postgres://u@h/db"), "give no database name"},
		{"archive-wal: MariaDB URL", aw("--database-url", "mysql://u@h/"), "is a mysql URL but --engine is postgresql"},
		{"archive-wal: password in the URL", aw("--database-url", "postgres://u:CANARYPW@h/"), "put the password in PGPASSWORD"},
		{"archive-wal: invalid --slot", aw("--slot", "Bad-Slot"), `invalid --slot: replication slot name "Bad-Slot"`},
		{"archive-wal: --partial-interval too long", aw("--partial-interval", "30s"), "--partial-interval 30s is not from 1s to 10s"},
		{"archive-wal: --partial-interval too short", aw("--partial-interval", "10ms"), "--partial-interval 10ms is not from 1s to 10s"},
		{"archive-wal: negative --warn-retained-mib", aw("--warn-retained-mib", "-1"), "--warn-retained-mib -1 is not from 0 to 1048576"},
		{"archive-wal: relative --spool-dir", aw("--spool-dir", "spool"), `--spool-dir "spool" must be an absolute path`},
		{"archive-wal: no --storage-config", []string{"archive-wal", "--database-url", pgURL, "--scope", "app"}, "--storage-config FILE is required"},
		{"archive-wal: missing --encryption-key-file", aw("--encryption-key-file", filepath.Join(dir, "none")), "encryption key file"},
		{"archive-wal: extra argument", aw("extra"), `unexpected argument(s) "extra"`},

		{"wal-fetch: one argument", wf("000000010000000000000001"), "want two arguments, NAME and DEST, got 1"},
		{"wal-fetch: not a WAL name", wf("../etc/passwd", "x"), `NAME "../etc/passwd" is not a WAL segment or timeline history file name`},
		{"wal-fetch: lower-case name", wf("00000001000000000000000a", "x"), "is not a WAL segment"},
		{"wal-fetch: no --scope", []string{"wal-fetch", "--storage-config", cfg, "00000002.history", "x"}, "--scope is required"},
		{"wal-fetch: endless --storage-config", []string{"wal-fetch", "--storage-config", "/dev/zero", "--scope", "s", "00000002.history", "x"}, "larger than 1.0 MiB"},

		{"list: missing --encryption-key-file", []string{"list", "--storage-config", cfg, "--encryption-key-file", filepath.Join(dir, "none")}, "encryption key file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", c.args...)
			if code != exitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 2 and %q", c.args, code, errOut, c.want)
			}
			if strings.Contains(out+errOut, "CANARY") {
				t.Errorf("a credential was printed:\n%s%s", out, errOut)
			}
		})
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("a refused restore made --pgdata %s: %v", empty, err)
	}
	if ents, _ := os.ReadDir(full); len(ents) != 1 {
		t.Errorf("a refused restore changed the non-empty --pgdata: %d entries", len(ents))
	}
}
