package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NewDataDir returns the path of a data directory to restore into for a
// server started later by StartFromDataDir: an empty folder the server's
// user owns, under p's folder (removed with it).
func (p *Postgres) NewDataDir(t T, name string) string {
	t.Helper()
	dir := filepath.Join(p.Dir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatalf("cannot make data directory %s: %v", dir, err)
	}
	if p.runAs != "" {
		if err := chownTree(dir, p.runAs); err != nil {
			t.Fatalf("cannot give %s to %s: %v", dir, p.runAs, err)
		}
	}
	return dir
}

// StartFromDataDir starts another server, with p's programs, user and
// password, on the data directory dir (a restored one: the server
// recovers first), on a new port; it waits until the server accepts
// connections (up to 60 s, which bounds the recovery) and stops it in
// t.Cleanup. The server's log is dir/../<base of dir>.log.
func (p *Postgres) StartFromDataDir(t T, dir string) *Postgres {
	t.Helper()
	q := *p
	logFile := dir + ".log"
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		q.Port = FreePort(t)
		opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s", q.Port, p.Dir)
		lastErr = q.try("pg_ctl", "-D", dir, "-l", logFile, "-w", "-t", "60", "-o", opts, "start")
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("cannot start PostgreSQL on %s: %v\nserver log:\n%s", dir, lastErr, dbTailFile(logFile, 40))
	}
	t.Cleanup(func() {
		if err := q.try("pg_ctl", "-D", dir, "-m", "fast", "-w", "-t", "30", "stop"); err != nil {
			t.Logf("cannot stop PostgreSQL on %s: %v", dir, err)
		}
	})
	// A recovering server accepts read-only connections (hot_standby):
	// wait for the end of recovery.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out, err := q.Exec("postgres", "SELECT pg_is_in_recovery()")
		if err == nil && strings.TrimSpace(out) == "f" {
			return &q
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL on %s still recovering after 60 s (%q, %v)\nserver log:\n%s", dir, out, err, dbTailFile(logFile, 40))
		}
	}
}

// WaitReceived waits (up to 30 s) until every replication client of the
// server (an archiver's pg_receivewal) has written all the WAL the server
// has written so far (flushed first, as the WAL writer does within a moment).
func (p *Postgres) WaitReceived(t T) {
	t.Helper()
	lsn := strings.TrimSpace(p.SQL(t, "postgres", "SELECT pg_current_wal_insert_lsn()"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		// One query: counted apart, a client that connected between the
		// two counts made "none behind" of "no client yet" and "one client".
		got := strings.TrimSpace(p.SQL(t, "postgres", fmt.Sprintf(
			"SELECT count(*) FILTER (WHERE write_lsn IS NULL OR write_lsn < '%s') || ' ' || count(*) FROM pg_stat_replication", lsn)))
		behind, n, _ := strings.Cut(got, " ")
		if behind == "0" && n != "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WAL up to %s was not received within 30 s (%s of %s clients behind)", lsn, behind, n)
		}
	}
}

// ServerLog returns the last n lines of the server's log.
func (p *Postgres) ServerLog(n int) string { return dbTailFile(p.logFile(), n) }
