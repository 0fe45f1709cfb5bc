package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
)

// lockedBuffer collects a child's output for the test to read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// archiverProc is a running "dbbackup archive-binlog".
type archiverProc struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan error
}

// startArchiver starts the built binary archiving db's binary logs into
// scope; the test's end kills it if it still runs.
func startArchiver(t *testing.T, bin, password string, args ...string) *archiverProc {
	t.Helper()
	p := &archiverProc{out: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, append([]string{"archive-binlog"}, args...)...)
	p.cmd.Env = append(os.Environ(), "MYSQL_PWD="+password)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// stop sends sig and returns the exit code, failing after 60 s.
func (p *archiverProc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(60 * time.Second):
		t.Fatalf("archive-binlog did not stop in 60 s after %v:\n%s", sig, p.out.String())
		return -1
	}
}

// waitStored waits until the archive holds name (complete, or partial
// when partial: a tail stored), failing after 30 s.
func waitStored(t *testing.T, s s3Fixture, scope, name string, partial bool, p *archiverProc) {
	t.Helper()
	st, _, err := openStore(s.cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		files, err := (pitr.Archive{Store: st, Scope: scope}).Binlogs().Files(context.Background())
		if f, ok := files[name]; err == nil && ok && (f.Complete || (partial && f.Tail != nil)) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s (partial %t) was not stored in 30 s:\n%s", name, partial, p.out.String())
}

func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dbbackup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// currentBinlog returns the file the server writes.
func currentBinlog(t *testing.T, db *testenv.MariaDB) string {
	t.Helper()
	f := strings.Fields(db.SQL(t, "", "SHOW MASTER STATUS"))
	if len(f) == 0 {
		t.Fatal("SHOW MASTER STATUS is empty")
	}
	return f[0]
}

// TestMariaDBRestoreToTime is the acceptance test of point-in-time
// recovery through the command line, on a MariaDB with a binary log and
// versitygw: batches A, B (with DDL) and C over time, a backup before B,
// the archiver killed with SIGKILL while B is written (its mariadb-binlog
// must die with it) and started again, then restores to a time between B
// and C and after C, each compared with a dump taken at that time; a
// damaged and a missing binary log object are refused before any
// statement reaches the server.
func TestMariaDBRestoreToTime(t *testing.T) {
	db := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	s := newS3Fixture(t)
	bin := buildCLI(t)
	t.Setenv("MYSQL_PWD", db.Password)
	secrets := append(s.secrets, db.Password)
	// Backup and binary logs encrypted under one key.
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := func() *archiverProc {
		return startArchiver(t, bin, db.Password, "--database-url", db.URL(""), "--storage-config", s.cfgFile, "--scope", "my", "--encryption-key-file", keyFile)
	}

	db.SQL(t, "", "CREATE DATABASE shop")
	db.SQL(t, "shop", "CREATE TABLE t (id int PRIMARY KEY, batch char(1), note varchar(50)); INSERT INTO t SELECT seq, 'A', CONCAT('a', seq) FROM seq_1_to_100")
	arch := archive()
	code, out, errOut := runCLI(t, "", "backup", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--scope", "my", "--job-id", "base", "--encryption-key-file", keyFile, "--json")
	if code != 0 {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	var rep backupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}

	// Batch B: rows one transaction at a time, DDL, a rotation, while the
	// archiver is killed with SIGKILL and started again.
	var wg sync.WaitGroup
	var loadErr error
	var loaded atomic.Int64
	stopLoad := make(chan struct{})
	wg.Go(func() {
		for i := 101; i <= 2000 && loadErr == nil; i++ {
			select {
			case <-stopLoad:
				return
			case <-time.After(30 * time.Millisecond):
			}
			_, loadErr = db.Exec("shop", fmt.Sprintf("INSERT INTO t VALUES (%d, 'B', 'b%d')", i, i))
			loaded.Add(1)
		}
	})
	db.SQL(t, "shop", "CREATE TABLE extra (x int); INSERT INTO extra VALUES (1), (2); ALTER TABLE extra ADD COLUMN y varchar(10) DEFAULT 'why'")
	db.SQL(t, "shop", "CREATE TABLE gone (x int); INSERT INTO gone VALUES (9); DROP TABLE gone; UPDATE t SET note = 'changed' WHERE id <= 10; DELETE FROM t WHERE id BETWEEN 11 AND 15")
	waitStored(t, s, "my", currentBinlog(t, db), true, arch)
	db.SQL(t, "", "FLUSH BINARY LOGS")
	time.Sleep(1200 * time.Millisecond)
	fetcher := waitChild(t, arch.cmd.Process.Pid, "mariadb-binlog", "mysqlbinlog")
	if err := arch.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-arch.exited
	// Its mariadb-binlog dies with it: no orphan keeps a replication
	// connection and writes into a folder nobody reads.
	mustDie(t, "archive-binlog killed with SIGKILL", fetcher)
	atKill := loaded.Load()
	arch = archive()
	time.Sleep(1500 * time.Millisecond)
	close(stopLoad)
	wg.Wait()
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	if n := loaded.Load(); n == atKill || atKill == 0 {
		t.Fatalf("the archiver was not killed while rows were written (%d rows before the kill, %d in all)", atKill, n)
	}
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	atTarget := db.Dump(t, "shop")
	time.Sleep(1100 * time.Millisecond)
	db.SQL(t, "shop", "INSERT INTO t SELECT seq, 'C', 'c' FROM seq_5000_to_5060; DROP TABLE extra; ALTER TABLE t ADD COLUMN late int")
	atEnd := db.Dump(t, "shop")
	time.Sleep(1100 * time.Millisecond)
	afterEnd := time.Now().UTC()
	db.SQL(t, "", "FLUSH BINARY LOGS")
	waitStored(t, s, "my", currentBinlog(t, db), true, arch)
	time.Sleep(1100 * time.Millisecond)
	// A row written just before SIGTERM is stored by the last upload:
	// the partial file then holds the server's file whole.
	db.SQL(t, "shop", "INSERT INTO t (id, batch) VALUES (9000, 'D')")
	time.Sleep(300 * time.Millisecond)
	status := strings.Fields(db.SQL(t, "", "SHOW MASTER STATUS"))
	if code := arch.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("archive-binlog after SIGTERM: exit %d\n%s", code, arch.out.String())
	}
	k, err := artefact.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := openStore(s.cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	f, size, err := (pitr.Archive{Store: st, Scope: "my", Key: k}).Binlogs().Get(context.Background(), status[0], io.Discard)
	if err != nil || f.Complete || strconv.FormatInt(size, 10) != status[1] {
		t.Fatalf("after SIGTERM the archive holds %s (complete %t) of %d bytes (%v); the server's file has %s, being written", status[0], f.Complete, size, err, status[1])
	}
	mustNotLeak(t, secrets, arch.out.String())
	if resumed := arch.out.String(); !strings.Contains(resumed, "archiving binary logs from mariadb-bin.") || strings.Contains(resumed, "from mariadb-bin.000001") {
		t.Fatalf("the archiver started again did not resume after what was stored:\n%s", resumed)
	}

	// list shows the window from the backup's end to the last stored file.
	code, out, errOut = runCLI(t, "", "list", "--storage-config", s.cfgFile, "--json")
	var rows []listedBackup
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("list --json: code %d\n%s%s", code, out, errOut)
	}
	var w *window
	for _, r := range rows {
		if r.JobID == "base" {
			w = r.Recoverable
		}
	}
	if w == nil || w.Until.Before(target) || w.From.After(target) {
		t.Fatalf("recoverable window of the base = %+v, want one around %s\n%s", w, target, out)
	}
	code, out, _ = runCLI(t, "", "list", "--storage-config", s.cfgFile)
	if code != 0 || !strings.Contains(out, "Recoverable windows") || !strings.Contains(squeeze(out), "my "+w.From.Format(time.RFC3339)+" "+w.Until.Format(time.RFC3339)) {
		t.Fatalf("list: code %d\n%s", code, out)
	}

	restore := func(extra ...string) (int, string) {
		args := append([]string{"restore", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--encryption-key-file", keyFile}, extra...)
		code, out, errOut := runCLI(t, "", args...)
		mustNotLeak(t, secrets, out, errOut)
		return code, out + errOut
	}
	if code, out := restore("--scope", "my", "--restore-to-time", target.Format(time.RFC3339Nano)); code != 0 {
		t.Fatalf("restore to %s: code %d\n%s", target, code, out)
	}
	if got := db.Dump(t, "shop"); got != atTarget {
		t.Fatalf("restored to the time between B and C:\n%s\nwant\n%s", got, atTarget)
	}
	if code, out := restore("--artefact-path", rep.ArtefactPath, "--restore-to-time", afterEnd.Format(time.RFC3339)); code != 0 {
		t.Fatalf("restore to after C: code %d\n%s", code, out)
	}
	if got := db.Dump(t, "shop"); got != atEnd {
		t.Fatalf("restored to after C:\n%s\nwant\n%s", got, atEnd)
	}

	// Refusals leave the database as it is.
	db.SQL(t, "shop", "INSERT INTO t (id, batch) VALUES (999, 'Z')")
	before := db.Dump(t, "shop")
	refused := func(what, want string, extra ...string) {
		t.Helper()
		code, out := restore(extra...)
		t.Logf("%s: %s", what, strings.TrimSpace(out))
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("%s: code %d, want 1 and %q\n%s", what, code, want, out)
		}
		if got := db.Dump(t, "shop"); got != before {
			t.Fatalf("%s: the refused restore changed the database", what)
		}
	}
	toEnd := []string{"--scope", "my", "--restore-to-time", afterEnd.Format(time.RFC3339)}
	refused("a time before every backup", "holds no backup", "--scope", "my", "--restore-to-time", "2001-01-01T00:00:00Z")
	code, out, errOut = runCLI(t, "", "restore", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile,
		"--scope", "my", "--restore-to-time", afterEnd.Format(time.RFC3339))
	if code != 1 || db.Dump(t, "shop") != before {
		t.Fatalf("restore to a time without the key: code %d, want 1 and the database unchanged\n%s%s", code, out, errOut)
	}
	refused("a time the archive does not reach", "reaches only", "--scope", "my", "--restore-to-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	keys := binlogKeys(t, s, "my")
	if len(keys) < 3 {
		t.Fatalf("archive holds %v; want at least 3 files", keys)
	}
	middle := keys[1]
	s.tamper(t, middle, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	refused("a damaged binary log", strings.TrimPrefix(middle, "prod/my/_logs/binlog/"), toEnd...)
	s.tamper(t, middle, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	if err := s.root.Delete(context.Background(), middle); err != nil {
		t.Fatal(err)
	}
	refused("a missing binary log", "is missing from the archive", toEnd...)

	// A file purged before it was archived is a gap the archiver names.
	db.SQL(t, "shop", "INSERT INTO t (id, batch) VALUES (1000, 'D')")
	db.SQL(t, "", "FLUSH BINARY LOGS; FLUSH BINARY LOGS")
	// The server keeps a file a replication thread still reads: the dump
	// threads of the stopped archivers may not have noticed yet.
	for _, id := range strings.Fields(db.SQL(t, "", "SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'")) {
		_, _ = db.Exec("", "KILL "+id)
	}
	// It also keeps a file until InnoDB made its transactions durable
	// (the binary log checkpoint): purge again until it is gone.
	current := currentBinlog(t, db)
	for i := 0; ; i++ {
		db.SQL(t, "", "PURGE BINARY LOGS TO '"+current+"'")
		oldest := strings.Fields(db.SQL(t, "", "SHOW BINARY LOGS"))[0]
		if oldest == current {
			break
		}
		if i == 100 {
			t.Fatalf("PURGE BINARY LOGS TO %s left %s for 20 s", current, oldest)
		}
		time.Sleep(200 * time.Millisecond)
	}
	gap := archive()
	select {
	case <-gap.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("archive-binlog did not stop at the gap:\n%s", gap.out.String())
	}
	if code := gap.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(gap.out.String(), "purged before it was archived") ||
		!regexp.MustCompile(`mariadb-bin\.[0-9]{6} is no longer on the server \(its oldest is mariadb-bin\.[0-9]{6}\)`).MatchString(gap.out.String()) {
		t.Fatalf("archive-binlog after a purge: exit %d\n%s", code, gap.out.String())
	}
}

// binlogKeys lists the archived binary log objects of scope, in order.
func binlogKeys(t *testing.T, s s3Fixture, scope string) []string {
	t.Helper()
	var keys []string
	for obj, err := range s.root.List(context.Background(), "prod/"+scope+"/_logs/binlog/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}
