package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// killRestore backs up with the command line, runs change, then restores
// with a built binary whose downloads are throttled and kills it with
// SIGKILL midway (its tools, pg_restore and psql or mariadb, are killed
// with it on Linux, mid-statement). It returns the restore's stderr.
func killRestore(t *testing.T, engineName, url, pwEnv, pw string, change func()) string {
	t.Helper()
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	cfg := srv.StorageConfig("backups")
	fastFile := writeStorageConfig(t, cfg)
	slow := cfg
	slow.Endpoint = "http://" + slowProxy(t, strings.TrimPrefix(cfg.Endpoint, "http://"), 0, 1<<20)
	slowFile := writeStorageConfig(t, slow)
	t.Setenv(pwEnv, pw)
	code, out, errOut := runCLI(t, "", "backup", "--engine", engineName, "--database-url", url, "--storage-config", fastFile, "--json")
	var rep backupReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	if rep.StoredBytes < 4<<20 {
		t.Fatalf("the backup is %d bytes: too small to be killed midway at 1 MiB/s", rep.StoredBytes)
	}
	change()

	bin := filepath.Join(t.TempDir(), "dbbackup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return runKilled(t, []string{pwEnv + "=" + pw}, bin, "restore", "--engine", engineName, "--database-url", url, "--storage-config", slowFile, "--artefact-path", rep.ArtefactPath)
}

// settle waits, bounded, until query answers "0": the orphaned tools of a
// killed restore have gone and the server has dropped their sessions.
func settle(t *testing.T, what string, query func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.TrimSpace(query()) != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("%s still there 30 s after the kill", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPostgresRestoreKilledMidwayChangesNothing: the one transaction that
// empties and loads the database is never committed by a restore killed
// midway, whatever its orphaned pg_restore and psql do next.
func TestPostgresRestoreKilledMidwayChangesNothing(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE big")
	pg.SQL(t, "big", "CREATE TABLE t AS SELECT i, md5(i::text) || md5((i + 1)::text) AS v FROM generate_series(1, 300000) i")
	var before string
	log := killRestore(t, "postgresql", pg.URL("big"), "PGPASSWORD", pg.Password, func() {
		pg.SQL(t, "big", "UPDATE t SET v = 'after the backup' WHERE i % 7 = 0; CREATE TABLE extra (x int)")
		before = pg.Dump(t, "big")
	})
	if !strings.Contains(log, "psql") && !strings.Contains(log, "pg_restore") {
		t.Logf("restore log before the kill:\n%s", log)
	}
	settle(t, "the restore's sessions", func() string {
		return pg.SQL(t, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'big' AND pid <> pg_backend_pid()")
	})
	if got := pg.Dump(t, "big"); got != before {
		t.Fatalf("a restore killed midway changed the database:\n%s", lineDiff(before, got))
	}
}

// TestMariaDBRestoreKilledMidwayChangesNothing: a backup of tables alone
// loads into a staging database; killed midway, the target is untouched
// (the staging database is left for the admin, as restore --help says).
func TestMariaDBRestoreKilledMidwayChangesNothing(t *testing.T) {
	my := testenv.StartMariaDB(t)
	my.SQL(t, "", "CREATE DATABASE big")
	my.SQL(t, "big", "CREATE TABLE t (i INT PRIMARY KEY, v TEXT) ENGINE=InnoDB; INSERT INTO t SELECT seq, CONCAT(MD5(seq), MD5(seq + 1), MD5(seq + 2)) FROM seq_1_to_200000")
	var before string
	killRestore(t, "mysql", my.URL("big"), "MYSQL_PWD", my.Password, func() {
		my.SQL(t, "big", "UPDATE t SET v = 'after the backup' WHERE i % 7 = 0; CREATE TABLE extra (x INT)")
		before = my.Dump(t, "big")
	})
	settle(t, "the restore's client", func() string {
		return my.SQL(t, "", "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Daemon'")
	})
	if got := my.Dump(t, "big"); got != before {
		t.Fatalf("a restore killed midway changed the database:\n%s", lineDiff(before, got))
	}
}
