package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DataDir is the server's data directory.
func (p *Postgres) DataDir() string { return p.dataDir() }

// SystemctlShim writes, into a new folder, a systemctl that answers
// "systemctl stop UNIT" and "systemctl start UNIT" for this server as a
// systemd unit would (pg_ctl stop and start, as the server's user) and
// refuses anything else; each call is appended to the file calls. While
// a file fail-next-start is in the folder, the next start removes it and
// fails without starting anything; while a file hang-next-start is, the
// next start removes it and hangs for 30 seconds, then fails. The
// folder goes first on the test's PATH (t must have Setenv, as a
// *testing.T does), which the charms' hooks and runners inherit: the
// server is real, only the service manager stands in. A test that fails
// logs the end of the server's log.
func (p *Postgres) SystemctlShim(t T, unit string) (dir, calls string) {
	t.Helper()
	tt, ok := t.(interface {
		Setenv(key, value string)
		Failed() bool
	})
	if !ok {
		t.Fatalf("SystemctlShim needs a *testing.T")
	}
	t.Cleanup(func() {
		if tt.Failed() {
			t.Logf("server log:\n%s", p.LogTail(60))
		}
	})
	dir, err := os.MkdirTemp("", "dbbackup-systemctl-")
	if err != nil {
		t.Fatalf("cannot make a folder for systemctl: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	calls = filepath.Join(dir, "calls")
	run := ""
	if p.runAs != "" {
		run = "runuser -u " + p.runAs + " -- "
	}
	pgctl := shellQuote(filepath.Join(p.ServerBinDir, "pg_ctl"))
	script := fmt.Sprintf(`#!/bin/sh
# systemctl stand-in for one test server (testenv.SystemctlShim).
echo "$*" >> %[1]s
if [ "$1" = start ] && [ -e %[9]s ]; then rm -f %[9]s; echo "systemctl stand-in: failing as asked" >&2; exit 1; fi
if [ "$1" = start ] && [ -e %[10]s ]; then rm -f %[10]s; sleep 30; exit 1; fi
case "$1 $2 $#" in
"stop %[2]s 2") cd %[6]s && exec %[3]s%[4]s -D %[5]s -m fast -w -t 60 stop ;;
"start %[2]s 2") cd %[6]s && exec %[3]s%[4]s -D %[5]s -l %[7]s -w -t 60 -o %[8]s start ;;
esac
echo "systemctl stand-in: unknown call: $*" >&2
exit 1
`, shellQuote(calls), unit, run, pgctl, shellQuote(p.dataDir()), shellQuote(p.Dir), shellQuote(p.logFile()), shellQuote(p.opts),
		shellQuote(filepath.Join(dir, "fail-next-start")), shellQuote(filepath.Join(dir, "hang-next-start")))
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(script), 0o755); err != nil {
		t.Fatalf("cannot write systemctl: %v", err)
	}
	tt.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir, calls
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// LogTail returns the last n lines of the server's log.
func (p *Postgres) LogTail(n int) string { return dbTailFile(p.logFile(), n) }
