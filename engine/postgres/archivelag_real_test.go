package postgres_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// signalingArchive is a dirArchive that tells of each partial upload.
type signalingArchive struct {
	dirArchive
	partials chan struct{}
}

func (a signalingArchive) Put(ctx context.Context, name string, partial bool, r io.Reader) error {
	err := a.dirArchive.Put(ctx, name, partial, r)
	if partial && err == nil {
		select {
		case a.partials <- struct{}{}:
		default:
		}
	}
	return err
}

// TestArchiveProgress: the archiver measures its lag on the real server.
// Caught up, it is under a WAL page with nothing pending; 2 MB of WAL
// written just after a partial upload shows as bytes and seconds behind
// (the next partial upload is 5 s away) with the slot's retained WAL,
// then as caught up again once uploaded.
func TestArchiveProgress(t *testing.T) {
	p := testenv.StartPostgres(t)
	arch := signalingArchive{dirArchive{filepath.Join(p.Dir, "archive")}, make(chan struct{}, 1)}
	if err := os.Mkdir(arch.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last postgres.ArchiveProgress
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newEngine(p, "").ArchiveWAL(ctx, postgres.ArchiveSpec{Spool: filepath.Join(p.Dir, "spool"), Slot: "lag",
			PartialEvery: 5 * time.Second, Poll: 100 * time.Millisecond, ProgressEvery: 100 * time.Millisecond,
			Progress: func(p postgres.ArchiveProgress) { mu.Lock(); last = p; mu.Unlock() }}, arch)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Error("ArchiveWAL did not stop within a minute")
		}
	})
	waitProgress := func(what string, ok func(postgres.ArchiveProgress) bool) postgres.ArchiveProgress {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			got := last
			mu.Unlock()
			if got.Err != nil {
				t.Fatalf("progress: %v", got.Err)
			}
			if ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("no progress %s within 30 s; last %+v", what, got)
			}
		}
	}
	caughtUp := func(g postgres.ArchiveProgress) bool {
		return g.Bytes >= 0 && g.Bytes < 8192 && g.PendingSince.IsZero() && g.ArchivedLSN > 0
	}
	waitProgress("caught up", caughtUp)
	select {
	case <-arch.partials: // the last one of the start
	default:
	}
	select {
	case <-arch.partials:
	case <-time.After(30 * time.Second):
		t.Fatal("no partial upload within 30 s")
	}
	p.SQL(t, "postgres", "CREATE TABLE w AS SELECT repeat('x', 1000) AS x FROM generate_series(1, 2000)")
	written := time.Now()
	behind := waitProgress("behind", func(g postgres.ArchiveProgress) bool { return g.Bytes >= 1<<20 })
	if behind.PendingSince.IsZero() || behind.PendingSince.Before(written.Add(-time.Second)) || behind.At.Before(behind.PendingSince) {
		t.Errorf("behind by %d bytes since %s (measured %s), want since about %s", behind.Bytes, behind.PendingSince, behind.At, written)
	}
	if behind.Slot != "lag" || behind.SlotRetained < 0 || behind.ServerLSN <= behind.ArchivedLSN ||
		int64(behind.ServerLSN-behind.ArchivedLSN) != behind.Bytes {
		t.Errorf("behind: %+v", behind)
	}
	after := waitProgress("caught up after the upload", caughtUp)
	if after.ArchivedLSN < behind.ServerLSN {
		t.Errorf("caught up at %s, short of %s", after.ArchivedLSN, behind.ServerLSN)
	}
}

// TestSlotIsMeasuredInProcess: the archiver's measurement of its slot
// runs no client program (the engine's tool folder is empty here), quotes
// a user name holding a quote and a backslash, names the server's reason
// for a wrong password without repeating it, and reads a missing slot as
// holding nothing back.
func TestSlotIsMeasuredInProcess(t *testing.T) {
	p := sharedPostgres(t)
	ctx := context.Background()
	noTools := postgres.Options{BinDir: t.TempDir()}
	user := `o'brien\x`
	p.SQL(t, "postgres", `DROP ROLE IF EXISTS "o'brien\x"; CREATE ROLE "o'brien\x" LOGIN PASSWORD 'q''uote\pw'`)
	p.SQL(t, "postgres", "SELECT pg_create_physical_replication_slot('probe', true)")
	t.Cleanup(func() {
		p.SQL(t, "postgres", `SELECT pg_drop_replication_slot('probe'); DROP ROLE "o'brien\x"`)
	})
	conn := connOf(p, "postgres")
	conn.User, conn.Password = user, `q'uote\pw`
	e := postgres.New(conn, noTools)
	s, err := e.Slot(ctx, "probe")
	if err != nil {
		t.Fatalf("Slot with no client program: %v", err)
	}
	if s.ServerLSN == 0 || s.SegSize != 16<<20 || s.Retained < 0 || s.Status != "reserved" {
		t.Errorf("slot probe: %+v, want a position, 16 MiB segments, WAL retained, reserved", s)
	}
	if s, err := e.Slot(ctx, "none_such"); err != nil || s.Retained != -1 || s.ServerLSN == 0 {
		t.Errorf("a missing slot: %+v, %v; want retained -1 and the server's position", s, err)
	}
	bad := connOf(p, "postgres")
	bad.Password = "CANARY-" + p.Password + "-x"
	_, err = postgres.New(bad, noTools).Slot(ctx, "probe")
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("Slot with a wrong password: %v; want the server's reason, without the password", err)
	}
	down := connOf(p, "postgres")
	down.Port = 1
	if _, err := postgres.New(down, noTools).Slot(ctx, "probe"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Slot of a closed port: %v, want refused", err)
	}
}
