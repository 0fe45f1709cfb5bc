package backupagent

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/runner"
)

// With archive-logs off (Release), the runner's releaser drops the
// agent's replication slot and the WAL spool; a slot a client streams
// through is left, and the status warns of it until a later attempt drops
// it.
func TestReleaseDropsTheSlot(t *testing.T) {
	pg := testenv.StartPostgres(t)
	slots := func() string {
		return strings.TrimSpace(pg.SQL(t, "postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"+walSlot+"'"))
	}
	j := runner.Journal{Dir: filepath.Join(t.TempDir(), "j")}
	if _, err := SetDatabase(j, Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password,
		Database: "postgres", BinDir: pg.BinDir}); err != nil {
		t.Fatal(err)
	}
	if _, err := SetArchiving(j, Archiving{Release: true}); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(j.Dir, walSpool)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	defer func(d time.Duration) { releaseRetry = d }(releaseRetry)
	releaseRetry = 0
	ctx := context.Background()

	// In use: pg_receivewal streams through it.
	recv := exec.Command(filepath.Join(pg.BinDir, "pg_receivewal"), "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", pg.User,
		"--no-password", "--directory="+spool, "--slot="+walSlot, "--create-slot", "--if-not-exists")
	recv.Env = pg.Env()
	if out, err := recv.CombinedOutput(); err != nil {
		t.Fatalf("cannot create the slot: %v: %s", err, out)
	}
	stream := exec.Command(recv.Path, "-h", pg.Host, "-p", strconv.Itoa(pg.Port), "-U", pg.User, "--no-password", "--directory="+spool, "--slot="+walSlot)
	stream.Env = recv.Env
	if err := stream.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stream.Process.Kill(); _ = stream.Wait() })
	pg.WaitReceived(t)
	var r releaser
	r.step(ctx, j, os.Stderr)
	if slots() != "1" || r.done {
		t.Fatalf("a slot in use was dropped (%s slots, done %v)", slots(), r.done)
	}
	if _, msg := StatusFrom(j, nil, time.Now()); !strings.Contains(msg, "warning: replication slot dbbackup_agent, which keeps WAL on the server, is in use") {
		t.Errorf("status %q, want a warning of the slot in use", msg)
	}
	if _, err := os.Stat(spool); err != nil {
		t.Errorf("the spool of a slot in use was removed: %v", err)
	}

	// Left: the next attempt drops it and the spool.
	_ = stream.Process.Kill()
	_ = stream.Wait()
	for deadline := time.Now().Add(20 * time.Second); slots() != "0"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not dropped within 20 s")
		}
		r.step(ctx, j, os.Stderr)
	}
	if !r.done {
		t.Error("the releaser is not done after dropping the slot")
	}
	if _, err := os.Stat(spool); !os.IsNotExist(err) {
		t.Errorf("the spool is still there after the slot was dropped: %v", err)
	}
	if st, msg := StatusFrom(j, nil, time.Now()); st != "active" || msg != "idle" {
		t.Errorf("status after the drop %s %q, want active idle", st, msg)
	}
	// A unit that never ran the WAL archiver (no spool) does not try.
	if err := os.Remove(filepath.Join(j.Dir, slotReleaseValue)); err != nil {
		t.Fatal(err)
	}
	r = releaser{}
	r.step(ctx, j, os.Stderr)
	if err := j.Value(slotReleaseValue, &slotRelease{}); err == nil || !r.done {
		t.Errorf("a unit with no WAL spool tried to drop the slot (done %v)", r.done)
	}
	// With a spool, a missing slot is no error.
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	r = releaser{}
	r.step(ctx, j, os.Stderr)
	var rec slotRelease
	if err := j.Value(slotReleaseValue, &rec); err != nil || !rec.Dropped || rec.Error != "" {
		t.Errorf("release of a missing slot: %+v, %v", rec, err)
	}
}

// An archiver that cannot run (here its WAL spool cannot be made) still
// measures the slot it left on the server: the status warns of the WAL it
// holds, naming the slot and the size, and stays active.
func TestFailingArchiverMeasuresTheSlot(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "SELECT pg_create_physical_replication_slot('"+walSlot+"', true); CREATE TABLE filler AS SELECT repeat('x', 1000) FROM generate_series(1, 3000)")
	j := runner.Journal{Dir: filepath.Join(t.TempDir(), "j")}
	if _, err := SetDatabase(j, Database{Engine: engine.PostgreSQL, Host: pg.Host, Port: pg.Port, User: pg.User, Password: pg.Password,
		BinDir: pg.BinDir}); err != nil {
		t.Fatal(err)
	}
	if _, err := SetArchiving(j, Archiving{On: true, WarnRetained: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	job := dbbackup.Job{ID: "b1", Type: dbbackup.Backup, StorageInterface: dbbackup.StorageS3,
		Storage: dbbackup.StorageConfig{Bucket: "b", Endpoint: "http://127.0.0.1:1", Credentials: dbbackup.Credentials{AccessKey: "ak", SecretKey: "sk"}}}
	if err := recordArchiveJob(j, job); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.Dir, walSpool), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runArchiver(ctx, j, "app", io.Discard); err == nil {
		t.Fatal("the archiver ran with a file for its spool")
	}
	l, ok := readLag(j)
	if !ok || l.Why != "down" || l.Slot != walSlot || l.Retained < 2<<20 {
		t.Fatalf("measurement of the failed archiver: %+v, %v; want down with the slot's 2 MiB or more", l, ok)
	}
	st, msg := StatusFrom(j, nil, time.Now())
	if st != "active" || !strings.HasPrefix(msg, "warning: replication slot dbbackup_agent holds ") || !strings.Contains(msg, "MiB of WAL on the server (over 1.0 MiB)") {
		t.Errorf("status %s %q, want active with the slot's warning first", st, msg)
	}
}
