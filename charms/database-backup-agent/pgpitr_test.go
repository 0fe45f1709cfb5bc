package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestRestoreToTimePostgres: the agent with data-directory and
// server-control (a systemd unit whose systemctl stands in for systemd,
// over a real server) advertises point-in-time. After a physical backup
// of A, B, a time, and C, with the WAL archiver on:
//   - a restore to a time the archive does not reach is refused before
//     the server is stopped, the rows unchanged;
//   - a restore whose server does not start again puts the old data
//     directory back and starts the server on it, the rows unchanged;
//   - a restore to the time between B and C stops the server, rewrites the
//     data directory, recovers and promotes: exactly A+B, read-write, no
//     stage folder with the credentials and no old data directory left;
//   - a restore to a time after the last commit (PostgreSQL ends such a
//     recovery before the target) says why and puts the old data
//     directory back;
//   - the new timeline is archived.
func TestRestoreToTimePostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE t (id int primary key, batch char(1)); INSERT INTO t VALUES (1, 'A'), (2, 'A')")
	const unit = "dbbackup-test-postgresql.service"
	shim, calls := pg.SystemctlShim(t, unit)
	w := newWorld(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"}, 1)
	rows := func() string {
		t.Helper()
		return strings.Join(strings.Fields(strings.ReplaceAll(pg.SQL(t, "shop", "SELECT id, batch FROM t ORDER BY id"), "|", " ")), " ")
	}
	controlCalls := func() string {
		data, _ := os.ReadFile(calls)
		return strings.TrimSpace(string(data))
	}
	caps := func() dbbackup.Capabilities {
		c, err := dbbackup.ParseCapabilities(w.m.RelationData(w.rel, "agent")[dbbackup.CapabilitiesKey])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Half the config, or a control that is neither systemd nor snap, is
	// blocked naming the option; point-in-time is not advertised.
	for _, bad := range []struct{ dir, control, want string }{
		{pg.DataDir(), "", "set both"},
		{pg.DataDir(), "init:postgresql", "server-control"},
		{"/nonexistent/pgdata", "systemd:" + unit, "not a PostgreSQL data directory"},
	} {
		if err := w.m.Config(w.ctx, "agent", map[string]string{"data-directory": bad.dir, "server-control": bad.control}); err != nil {
			t.Fatal(err)
		}
		w.settle()
		if st, msg := w.m.UnitStatus("agent/0"); st != "blocked" || !strings.Contains(msg, bad.want) {
			t.Errorf("data-directory %q server-control %q: status %s %q, want blocked naming %q", bad.dir, bad.control, st, msg, bad.want)
		}
		if caps().Has(dbbackup.PointInTime) {
			t.Errorf("data-directory %q server-control %q: point-in-time advertised", bad.dir, bad.control)
		}
	}
	if err := w.m.Config(w.ctx, "agent", map[string]string{"data-directory": pg.DataDir(), "server-control": "systemd:" + unit, "archive-logs": "true"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if c := caps(); !c.Has(dbbackup.PointInTime) || !c.Has(dbbackup.Physical) {
		t.Fatalf("capabilities with physical restores configured = %v, want physical and point-in-time", c)
	}

	w.request(w.backup("base").WithMethod(dbbackup.MethodPhysical))
	base := w.wait("base")["base"]
	if base.Status != dbbackup.Success {
		t.Fatalf("base = %+v", base)
	}
	w.archiverUp(0)
	pg.SQL(t, "shop", "INSERT INTO t VALUES (3, 'B'), (4, 'B')")
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	pg.SQL(t, "shop", "INSERT INTO t VALUES (5, 'C')")
	afterC := time.Now().UTC()
	w.waitArchivedIn(artefact.LogStreamWAL, afterC.Add(time.Second))

	w.request(w.restore("too-late", base.ArtefactPath).WithRestoreToTime(time.Now().Add(time.Hour)))
	if r := w.wait("too-late")["too-late"]; r.Status != dbbackup.Error || !strings.Contains(r.Message, "cannot restore") {
		t.Errorf("restore to a time the archive does not reach = %+v, want error", r)
	}
	if got := controlCalls(); got != "" {
		t.Errorf("a refused restore called systemctl: %q", got)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B 5 C"; got != want {
		t.Fatalf("a refused restore changed the database: %q, want %q", got, want)
	}

	// The server does not start on the restored directory: the old one
	// comes back.
	if err := os.WriteFile(filepath.Join(shim, "fail-next-start"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w.request(w.restore("no-start", base.ArtefactPath).WithRestoreToTime(target))
	if r := w.wait("no-start")["no-start"]; r.Status != dbbackup.Error || !strings.Contains(r.Message, "put back") {
		t.Errorf("restore whose server does not start = %+v, want an error saying the old data directory was put back", r)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B 5 C"; got != want {
		t.Fatalf("after a failed restore: %q, want the rows as they were, %q", got, want)
	}
	if got := controlCalls(); !strings.Contains(got, "stop "+unit) || strings.Count(got, "start "+unit) != 2 {
		t.Errorf("systemctl calls of the failed restore: %q, want a stop and two starts (the failed one, then on the old directory)", got)
	}
	if err := os.Truncate(calls, 0); err != nil {
		t.Fatal(err)
	}

	w.request(w.restore("to-b", base.ArtefactPath).WithRestoreToTime(target))
	if r := w.wait("to-b")["to-b"]; r.Status != dbbackup.Success {
		t.Fatalf("restore to between B and C = %+v", r)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B"; got != want {
		t.Errorf("after a restore to between B and C: %q, want %q", got, want)
	}
	if got, want := controlCalls(), "stop "+unit+"\nstart "+unit; got != want {
		t.Errorf("systemctl calls = %q, want %q", got, want)
	}
	pg.SQL(t, "shop", "INSERT INTO t VALUES (6, 'D')") // read-write again
	time.Sleep(1100 * time.Millisecond)
	afterD := time.Now().UTC()
	// No commit after afterD: PostgreSQL ends its recovery before the
	// target, and the old data directory comes back.
	st, err := s3.New(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The new timeline's segment (not the old one's, also uploaded again)
	// stored after afterD: the window then holds afterD.
	w.waitFor("the new timeline's WAL in the archive past "+afterD.Format(time.RFC3339), func() bool {
		logs, err := artefact.ListLogs(w.ctx, st, "agent", artefact.LogStreamWAL)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			if strings.HasPrefix(l.Name, "00000002") && len(l.Name) == 24 && l.ModTime.After(afterD.Add(time.Second)) {
				return true
			}
		}
		return false
	})
	w.request(w.restore("quiet", base.ArtefactPath).WithRestoreToTime(afterD))
	if r := w.wait("quiet")["quiet"]; r.Status != dbbackup.Error || !strings.Contains(r.Message, "no commit after") || !strings.Contains(r.Message, "put back") {
		t.Errorf("restore to a time after the last commit = %+v, want an error that says why and that the old data directory was put back", r)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B 6 D"; got != want {
		t.Errorf("after a restore that ended before its target: %q, want %q", got, want)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(pg.DataDir()), "*dbbackup*"))
	if len(left) > 0 {
		t.Errorf("left beside the data directory: %v, want no stage folder and no old data directory", left)
	}
	for _, f := range []string{"postgresql.auto.conf", "postgresql.conf"} {
		data, _ := os.ReadFile(filepath.Join(pg.DataDir(), f))
		for _, s := range w.secrets {
			if s != "" && strings.Contains(string(data), s) {
				t.Errorf("%s holds a credential", f)
			}
		}
	}
	// The promoted server's new timeline reaches the archive.
	w.waitFor("the new timeline's history file in the archive", func() bool {
		logs, err := artefact.ListLogs(w.ctx, st, "agent", artefact.LogStreamWAL)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			if strings.HasSuffix(l.Name, ".history") {
				return true
			}
		}
		return false
	})
	w.checkNoSecrets()
}

// TestRunnerKilledMidPhysicalRestore: the runner is SIGKILLed while a
// physical restore has the server stopped and the data directory moved
// aside (the server's start hangs). The next runner puts the old data
// directory back and starts the server on it: the job is interrupted, the
// rows are as they were, nothing is left beside the data directory.
func TestRunnerKilledMidPhysicalRestore(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE t (id int primary key, batch char(1)); INSERT INTO t VALUES (1, 'A')")
	const unit = "dbbackup-kill-postgresql.service"
	shim, calls := pg.SystemctlShim(t, unit)
	w := newWorld(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"}, 1)
	if err := w.m.Config(w.ctx, "agent", map[string]string{"data-directory": pg.DataDir(), "server-control": "systemd:" + unit}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.request(w.backup("base").WithMethod(dbbackup.MethodPhysical))
	base := w.wait("base")["base"]
	if base.Status != dbbackup.Success {
		t.Fatalf("base = %+v", base)
	}
	pg.SQL(t, "shop", "INSERT INTO t VALUES (2, 'B')")
	if err := os.WriteFile(filepath.Join(shim, "hang-next-start"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	j := w.journal("agent/0")
	w.request(w.restore("killed", base.ArtefactPath))
	w.waitFor("the restore to start the server on the new data directory", func() bool {
		data, _ := os.ReadFile(calls)
		return strings.Contains(string(data), "start "+unit)
	})
	before, _ := filepath.Glob(pg.DataDir() + ".dbbackup-before-*")
	if len(before) != 1 {
		t.Fatalf("old data directory kept aside: %v, want one", before)
	}
	// What restore_command reads (the credentials) is the server user's
	// alone while the server recovers.
	stages, _ := filepath.Glob(filepath.Join(filepath.Dir(pg.DataDir()), ".dbbackup-restore-*"))
	if len(stages) != 1 {
		t.Fatalf("stage folders: %v, want one", stages)
	}
	owner := func(path string) (uint32, os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Uid, fi.Mode().Perm()
	}
	serverUID, _ := owner(pg.DataDir())
	for f, mode := range map[string]os.FileMode{stages[0]: 0o700, filepath.Join(stages[0], "fetch-job.json"): 0o600,
		filepath.Join(stages[0], "dbbackup-wal-fetch"): 0o700} {
		if uid, m := owner(f); uid != serverUID || m != mode {
			t.Errorf("%s: owner %d mode %o, want the server's user %d and mode %o", f, uid, m, serverUID, mode)
		}
	}
	if err := syscall.Kill(runner.PID(j), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); runner.Alive(j); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner outlived SIGKILL")
		}
	}
	w.m.UpdateStatus()
	if r := w.wait("killed")["killed"]; r.Status != dbbackup.Error || r.Message != runner.MsgInterrupted {
		t.Errorf("killed = %s %q, want error %q", r.Status, r.Message, runner.MsgInterrupted)
	}
	w.waitFor("the old data directory back", func() bool {
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(pg.DataDir()), "*dbbackup*"))
		_, err := pg.Exec("shop", "SELECT 1")
		return len(left) == 0 && err == nil
	})
	if got, want := strings.ReplaceAll(strings.Join(strings.Fields(pg.SQL(t, "shop", "SELECT id, batch FROM t ORDER BY id")), " "), "|", " "), "1 A 2 B"; got != want {
		t.Errorf("after an interrupted restore: %q, want the rows as they were, %q", got, want)
	}
	w.checkNoSecrets()
}
