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

	// The archiver uploads the file being written at least every 10 s:
	// wait, boundedly, for the window to pass C.
	var win pitr.Window
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
		if len(ws) == 1 && ws[0].JobID == base && ws[0].Until.After(afterC) {
			win = ws[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window of %s never passed %s: %+v (status: %s)", base, afterC, ws, s.M.Status())
		}
	}

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
