package backupagent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
