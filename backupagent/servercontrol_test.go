package backupagent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseServerControl(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"systemd:postgresql@16-main.service", "systemd unit postgresql@16-main.service"},
		{"systemd:postgresql", "systemd unit postgresql"},
		{"snap:charmed-postgresql.patroni", "snap service charmed-postgresql.patroni"},
	} {
		ctl, err := ParseServerControl(c.in)
		got := ""
		if ctl != nil {
			got = ctl.String()
		}
		if err != nil || got != c.want {
			t.Errorf("ParseServerControl(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"systemd:", "systemd:a b", "systemd:-x", "systemd:x;reboot", "snap:", "snap:charmed-postgresql",
		"snap:Charmed.X", "init:postgresql", "postgresql", "systemd:" + strings.Repeat("a", 300), "systemd:a\nb", `systemd:a\b`, "\x00"} {
		if ctl, err := ParseServerControl(bad); err == nil || !strings.Contains(err.Error(), ServerControlField) {
			t.Errorf("ParseServerControl(%q) = %v, %v; want an error naming %s", bad, ctl, err, ServerControlField)
		}
	}
}

// TestServerControlCommands: the systemd and snap controls run exactly
// "systemctl stop|start UNIT" and "snap stop|start SNAP.SERVICE", and a
// failing command is an error that says which and what it printed.
func TestServerControlCommands(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	for _, name := range []string{"systemctl", "snap"} {
		script := "#!/bin/sh\necho " + name + " \"$@\" >> " + calls + "\n[ \"$2\" = broken ] && { echo 'unit broken not loaded' >&2; exit 5; }\nexit 0\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx := context.Background()
	for _, spec := range []string{"systemd:pg.service", "snap:charmed-postgresql.patroni"} {
		ctl, err := ParseServerControl(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := ctl.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ctl.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(calls)
	want := "systemctl stop pg.service\nsystemctl start pg.service\nsnap stop charmed-postgresql.patroni\nsnap start charmed-postgresql.patroni\n"
	if string(data) != want {
		t.Errorf("commands run:\n%s\nwant:\n%s", data, want)
	}
	ctl, _ := ParseServerControl("systemd:broken")
	err := ctl.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "systemctl stop broken") || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("a failing stop = %v, want the command and its output", err)
	}
}

// TestWALFetchMainRefuses: wal-fetch refuses a bad command line (exit 2)
// and, with no restore job in its folder, exits above 125 so that
// PostgreSQL stops the recovery rather than end it early.
func TestWALFetchMainRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, fetchUsage},
		{[]string{"--state", dir, "--scope", "pg", "000000010000000000000003"}, fetchUsage},
		{[]string{"--state", dir, "--scope", "pg", "../../etc/passwd", "x"}, fetchUsage},
		{[]string{"--state", dir, "--scope", "pg", "000000010000000000000003", filepath.Join(dir, "x")}, fetchFailed},
	} {
		var stderr bytes.Buffer
		if got := WALFetchMain(c.args, &stderr); got != c.code {
			t.Errorf("wal-fetch %q = %d (%s), want %d", c.args, got, stderr.String(), c.code)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a failed fetch wrote its destination")
	}
}
