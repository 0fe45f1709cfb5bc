package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/pitr"
)

// Point-in-time recovery through both charms, as an admin runs it: the
// agent archives MariaDB's binary log (archive-logs), the manager's
// list-backups shows the window, and `restore restore-to-time=` between
// batches B and C gives exactly A+B; a time past the archive is refused by
// the manager naming the window, before any job; a time after C brings C
// back.
func TestRestoreToTimeThroughTheCharms(t *testing.T) {
	s := start(t, model.Options{})
	my := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	my.SQL(t, "", "CREATE DATABASE shop")
	my.SQL(t, "shop", "CREATE TABLE t (id int primary key, batch char(1)); INSERT INTO t VALUES (1, 'A'), (2, 'A'); CREATE TABLE later (id int)")
	const app = "shop-db"
	s.DeployAgent(app, "mysql", my.Host, my.Port, my.User, my.Password)
	s.Must(s.Config(app, map[string]string{"databases": "shop", "archive-logs": "true"}))
	s.Settle()
	rows := func() string {
		t.Helper()
		return strings.Join(strings.Fields(my.SQL(t, "shop", "SELECT id, batch FROM t ORDER BY id")), " ")
	}
	leader := s.Leader()
	base := ok(t, s, leader, "create-backup", map[string]any{"application": app})["job-id"].(string)
	wait(t, s, base)

	my.SQL(t, "shop", "INSERT INTO t VALUES (3, 'B'), (4, 'B')")
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	my.SQL(t, "shop", "INSERT INTO t VALUES (5, 'C')")
	time.Sleep(1100 * time.Millisecond)
	afterC := time.Now().UTC()
	// A write after the time makes the archiver store the file again
	// (a quiet server's file is stored again only now and then).
	my.SQL(t, "shop", "INSERT INTO later VALUES (1)")

	win := waitWindow(t, s, leader, app, base, afterC)

	late := win.Until.Add(time.Hour).Format(time.RFC3339)
	refused(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": late},
		"outside every recoverable window: "+app+"/"+base+" from ")

	res := ok(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": target.Format(time.RFC3339Nano)})
	if res["backup-id"] != base {
		t.Errorf("the manager chose %v as the base, want %s", res["backup-id"], base)
	}
	wait(t, s, res["job-id"].(string))
	if got, want := rows(), "1 A 2 A 3 B 4 B"; got != want {
		t.Errorf("restored to %s between B and C: rows %q, want %q", target, got, want)
	}

	res = ok(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": afterC.Format(time.RFC3339Nano)})
	wait(t, s, res["job-id"].(string))
	if got, want := rows(), "1 A 2 A 3 B 4 B 5 C"; got != want {
		t.Errorf("restored to %s after C: rows %q, want %q", afterC, got, want)
	}
	noCanary(t, s)
}

// waitWindow waits, boundedly, for list-backups to show base's window
// reaching past at (the archivers upload the file being written at least
// every 10 s) and returns it.
func waitWindow(t *testing.T, s *model.Stack, leader, app, base string, at time.Time) pitr.Window {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(2 * time.Second) {
		s.M.UpdateStatus()
		s.Settle()
		var ws []pitr.Window
		res := ok(t, s, leader, "list-backups", map[string]any{"application": app, "format": "json"})
		if text, _ := res["windows"].(string); text != "" {
			if err := json.Unmarshal([]byte(text), &ws); err != nil {
				t.Fatalf("windows %q: %v", text, err)
			}
		}
		for _, w := range ws {
			if w.JobID == base && w.Until.After(at) {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window of %s never passed %s: %+v (status: %s)", base, at, ws, s.M.Status())
		}
	}
}

// TestPostgresRestoreToTimeThroughTheCharms: the same through both charms
// on PostgreSQL, the agent with archive-logs, data-directory and
// server-control (a systemctl standing in for systemd over a real
// server): create-backup method=physical, restore restore-to-time=
// between B and C gives exactly A+B; then D is written on the new
// timeline, then E, and a second restore to a time between D and E
// (along the new timeline) gives A+B+D.
func TestPostgresRestoreToTimeThroughTheCharms(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE t (id int primary key, batch char(1)); INSERT INTO t VALUES (1, 'A'), (2, 'A')")
	const unit = "dbbackup-e2e-postgresql.service"
	pg.SystemctlShim(t, unit)
	s := start(t, model.Options{})
	const app = "shop-pg"
	s.DeployAgent(app, "postgresql", pg.Host, pg.Port, pg.User, pg.Password)
	s.Must(s.Config(app, map[string]string{"databases": "shop", "archive-logs": "true",
		"data-directory": pg.DataDir(), "server-control": "systemd:" + unit}))
	s.Settle()
	rows := func() string {
		t.Helper()
		return strings.Join(strings.Fields(strings.ReplaceAll(pg.SQL(t, "shop", "SELECT id, batch FROM t ORDER BY id"), "|", " ")), " ")
	}
	leader := s.Leader()
	base := ok(t, s, leader, "create-backup", map[string]any{"application": app, "method": "physical"})["job-id"].(string)
	wait(t, s, base)

	pg.SQL(t, "shop", "INSERT INTO t VALUES (3, 'B'), (4, 'B')")
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	pg.SQL(t, "shop", "INSERT INTO t VALUES (5, 'C')")
	afterC := time.Now().UTC()
	win := waitWindow(t, s, leader, app, base, afterC)
	refused(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": win.Until.Add(time.Hour).Format(time.RFC3339)},
		"outside every recoverable window: "+app+"/"+base+" from ")

	res := ok(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": target.Format(time.RFC3339Nano)})
	if res["backup-id"] != base {
		t.Errorf("the manager chose %v as the base, want %s", res["backup-id"], base)
	}
	wait(t, s, res["job-id"].(string))
	if got, want := rows(), "1 A 2 A 3 B 4 B"; got != want {
		t.Errorf("restored to %s between B and C: rows %q, want %q", target, got, want)
	}

	time.Sleep(1100 * time.Millisecond)
	pg.SQL(t, "shop", "INSERT INTO t VALUES (6, 'D')")
	time.Sleep(1100 * time.Millisecond)
	afterD := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	// PostgreSQL recovers to a time by stopping at the first commit after
	// it: E is that commit.
	pg.SQL(t, "shop", "INSERT INTO t VALUES (7, 'E')")
	waitWindow(t, s, leader, app, base, afterD.Add(2*time.Second))
	res = ok(t, s, leader, "restore", map[string]any{"application": app, "restore-to-time": afterD.Format(time.RFC3339Nano)})
	wait(t, s, res["job-id"].(string))
	if got, want := rows(), "1 A 2 A 3 B 4 B 6 D"; got != want {
		t.Errorf("restored to %s after D, on the new timeline: rows %q, want %q", afterD, got, want)
	}
	noCanary(t, s)
}
