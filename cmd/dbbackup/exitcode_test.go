package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExitCodes holds every command to one rule: 2 for an unusable command
// line (unknown flag, missing required flag, invalid flag value, arguments
// the command does not take, a file named on it that cannot be read or is
// over its bound), naming what is wrong on standard error; 0 and standard
// output for --help. No case reaches a database or a store.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(cfg, []byte("bucket: backups\naccess-key: AKCANARY\nsecret-key: SKCANARY\nendpoint: http://127.0.0.1:1\ns3-uri-style: path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.yaml")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 2<<30); err != nil {
		t.Fatal(err)
	}
	badCfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badCfg, []byte("bucket: b/c\naccess-key: AKCANARY\nsecret-key: SKCANARY\n"), 0o600)
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte(strings.Repeat("k", 32)), 0o600)
	databag := "../../dbbackup/testdata/published-requirer.json"
	pgURL := "postgres://u@127.0.0.1:1/db"

	bk := func(extra ...string) []string {
		return append([]string{"backup", "--engine", "postgresql", "--database-url", pgURL, "--storage-config", cfg}, extra...)
	}
	rs := func(extra ...string) []string {
		return append([]string{"restore", "--engine", "postgresql", "--database-url", pgURL, "--storage-config", cfg, "--artefact-path", "p/s/j/"}, extra...)
	}
	art := func(cmd string, extra ...string) []string {
		return append([]string{cmd, "--storage-config", cfg, "--artefact-path", "p/s/j/"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want string // on standard error
	}{
		{"no command", nil, "Usage: dbbackup"},
		{"unknown command", []string{"frob"}, `unknown command "frob"`},

		{"backup: unknown flag", bk("--frob"), "flag provided but not defined: -frob"},
		{"backup: no --engine", []string{"backup", "--database-url", pgURL, "--storage-config", cfg}, "--engine must be postgresql or mysql"},
		{"backup: invalid --engine", bk("--engine", "oracle"), `--engine must be postgresql or mysql, got "oracle"`},
		{"backup: no --database-url", []string{"backup", "--engine", "postgresql", "--storage-config", cfg}, "--database-url is required"},
		{"backup: invalid --database-url", bk("--database-url", "ftp://h/db"), "--database-url: cannot parse database URL"},
		{"backup: --database-url of the other engine", bk("--database-url", "mysql://u@h/db"), "is a mysql URL but --engine is postgresql"},
		{"backup: password in --database-url", bk("--database-url", "postgres://u:pw@h/db"), "put the password in PGPASSWORD"},
		{"backup: no --storage-config", []string{"backup", "--engine", "postgresql", "--database-url", pgURL}, "--storage-config FILE is required"},
		{"backup: missing --storage-config", bk("--storage-config", filepath.Join(dir, "none")), "cannot read the storage configuration"},
		{"backup: endless --storage-config", bk("--storage-config", "/dev/zero"), "the storage configuration /dev/zero is larger than 1.0 MiB"},
		{"backup: 2 GiB --storage-config", bk("--storage-config", sparse), "is larger than 1.0 MiB"},
		{"backup: invalid --storage-config", bk("--storage-config", badCfg), "storage-config.bucket"},
		{"backup: invalid --job-id", bk("--job-id", "a/b"), `invalid --job-id: job id "a/b"`},
		{"backup: invalid --scope", bk("--scope", "../x"), `invalid --scope: scope "../x"`},
		{"backup: missing --encryption-key-file", bk("--encryption-key-file", filepath.Join(dir, "none")), "encryption key file"},
		{"backup: invalid --compression", bk("--compression=maybe"), "invalid boolean value"},
		{"backup: extra argument", bk("extra"), `unexpected argument(s) "extra"`},

		{"restore: unknown flag", rs("--frob"), "flag provided but not defined"},
		{"restore: invalid --engine", rs("--engine", "x"), "--engine must be"},
		{"restore: no --database-url", []string{"restore", "--engine", "mysql", "--storage-config", cfg, "--artefact-path", "a/b/c"}, "--database-url is required"},
		{"restore: no --artefact-path", []string{"restore", "--engine", "postgresql", "--database-url", pgURL, "--storage-config", cfg}, "artefact-path is empty"},
		{"restore: invalid --artefact-path", rs("--artefact-path", "a/../b"), "--artefact-path: must not contain"},
		{"restore: endless --storage-config", rs("--storage-config", "/dev/zero"), "larger than 1.0 MiB"},
		{"restore: extra arguments", rs("one", "two"), `unexpected argument(s) "one" "two"`},
		{"restore: missing --encryption-key-file", rs("--encryption-key-file", filepath.Join(dir, "none")), "encryption key file"},

		{"list: unknown flag", []string{"list", "--frob"}, "flag provided but not defined"},
		{"list: no --storage-config", []string{"list"}, "--storage-config FILE is required"},
		{"list: endless --storage-config", []string{"list", "--storage-config", "/dev/zero"}, "larger than 1.0 MiB"},
		{"list: invalid --scope", []string{"list", "--storage-config", cfg, "--scope", "a/b"}, `invalid --scope: scope "a/b"`},
		{"list: extra argument", []string{"list", "--storage-config", cfg, "extra"}, `unexpected argument(s) "extra"`},

		{"verify: unknown flag", art("verify", "--frob"), "flag provided but not defined"},
		{"verify: no --artefact-path", []string{"verify", "--storage-config", cfg}, "artefact-path is empty"},
		{"verify: endless --storage-config", []string{"verify", "--storage-config", "/dev/zero", "--artefact-path", "a/b"}, "larger than 1.0 MiB"},
		{"verify: extra argument", art("verify", "extra"), `unexpected argument(s) "extra"`},
		{"delete: unknown flag", art("delete", "--frob"), "flag provided but not defined"},
		{"delete: invalid --artefact-path", []string{"delete", "--storage-config", cfg, "--artefact-path", "./x"}, "--artefact-path: must not contain"},
		{"delete: extra argument", art("delete", "extra"), `unexpected argument(s) "extra"`},

		{"validate: unknown flag", []string{"validate", "--frob", databag}, "flag provided but not defined"},
		{"validate: no --side", []string{"validate", databag}, "--side must be requirer or provider"},
		{"validate: invalid --side", []string{"validate", "--side", "both", databag}, `got "both"`},
		{"validate: no FILE", []string{"validate", "--side", "requirer"}, "want exactly one FILE"},
		{"validate: two FILEs", []string{"validate", "--side", "requirer", databag, databag}, "got 2 argument(s)"},
		{"validate: missing FILE", []string{"validate", "--side", "requirer", filepath.Join(dir, "none")}, "cannot read"},
		{"validate: endless FILE", []string{"validate", "--side", "requirer", "/dev/zero"}, "/dev/zero is larger than 16.0 MiB"},
		{"validate: 2 GiB FILE", []string{"validate", "--side", "requirer", sparse}, "is larger than 16.0 MiB"},

		{"jobs: unknown flag", []string{"jobs", "--frob", databag}, "flag provided but not defined"},
		{"jobs: invalid --format", []string{"jobs", "--format", "xml", databag}, "--format must be table or json"},
		{"jobs: no FILE", []string{"jobs"}, "want at least one FILE"},
		{"jobs: missing FILE", []string{"jobs", databag, filepath.Join(dir, "none")}, "cannot read"},
		{"jobs: endless FILE", []string{"jobs", "/dev/zero"}, "/dev/zero is larger than 16.0 MiB"},
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
}

// TestExitCodesStandardInput: an endless standard input is refused with
// exit 2, as an endless file is.
func TestExitCodesStandardInput(t *testing.T) {
	for _, cmd := range [][]string{{"validate", "--side", "provider", "-"}, {"jobs", "-"}} {
		var in strings.Builder
		in.Grow(17 << 20)
		for in.Len() <= 16<<20 {
			in.WriteString("# a comment line of a YAML document that goes on and on\n")
		}
		code, _, errOut := runCLI(t, in.String(), cmd...)
		if code != exitUsage || !strings.Contains(errOut, "standard input is larger than 16.0 MiB") {
			t.Errorf("%v: exit %d, stderr %s", cmd, code, errOut)
		}
	}
}

// TestExitCodeOfAFailedOperation: what the command line asked for was
// refused (an invalid databag): exit 1, not 2.
func TestExitCodeOfAFailedOperation(t *testing.T) {
	code, out, _ := runCLI(t, `{"jobs": "[{\"job-id\":\"a\"}]"}`, "validate", "--side", "provider", "-")
	if code != exitFail || !strings.Contains(out, "jobs[0].status: required") {
		t.Fatalf("exit %d, %s", code, out)
	}
}

// TestAliasBomb: a small YAML document whose aliases expand to billions of
// nodes is refused at once, as a storage configuration (exit 2) and as a
// databag document (exit 1: it is read, and is no databag).
func TestAliasBomb(t *testing.T) {
	lines := []string{`a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`}
	for i := 1; i <= 9; i++ {
		p := "*a" + strconv.Itoa(i-1)
		lines = append(lines, "a"+strconv.Itoa(i)+": &a"+strconv.Itoa(i)+" ["+strings.TrimSuffix(strings.Repeat(p+",", 9), ",")+"]")
	}
	lines = append(lines, "jobs: *a9", "bucket: *a9")
	bomb := filepath.Join(t.TempDir(), "bomb.yaml")
	if err := os.WriteFile(bomb, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"list", "--storage-config", bomb}, exitUsage, "is neither JSON nor YAML"},
		{[]string{"jobs", bomb}, exitFail, "excessive aliasing"},
		{[]string{"validate", "--side", "requirer", bomb}, exitFail, "excessive aliasing"},
	} {
		start := time.Now()
		code, out, errOut := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) || time.Since(start) > 5*time.Second {
			t.Errorf("%q: exit %d after %s:\n%s%s\nwant exit %d and %q", c.args, code, time.Since(start), out, errOut, c.code, c.want)
		}
	}
}
