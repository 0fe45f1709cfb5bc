package mysql_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestArchiveProgress: the binary log archiver measures its lag on the
// real server. Caught up, nothing is behind; 200 KB of rows written just
// after a partial store show as bytes and seconds behind (the next store
// is 5 s away), then as caught up once stored.
func TestArchiveProgress(t *testing.T) {
	m := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	m.SQL(t, "", "CREATE DATABASE lag; CREATE TABLE lag.t (id int PRIMARY KEY, x text)")
	sink := newMemSink()
	var mu sync.Mutex
	var last mysql.ArchiveProgress
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newEngine(m, "").ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: sink, PartialEvery: 5 * time.Second,
			ProgressEvery: time.Millisecond, Progress: func(p mysql.ArchiveProgress) { mu.Lock(); last = p; mu.Unlock() }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Error("ArchiveBinlogs did not stop within a minute")
		}
	})
	wait := func(what string, ok func(mysql.ArchiveProgress) bool) mysql.ArchiveProgress {
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
	caughtUp := func(g mysql.ArchiveProgress) bool {
		return g.Bytes == 0 && g.PendingSince.IsZero() && g.ArchivedFile == g.ServerFile && g.ArchivedEnd == g.ServerSize
	}
	wait("caught up", caughtUp)
	puts := func() int { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.puts }
	for n, deadline := puts(), time.Now().Add(30*time.Second); puts() == n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing stored within 30 s")
		}
	}
	m.SQL(t, "lag", "INSERT INTO t SELECT seq, repeat('x', 1000) FROM seq_1_to_200")
	written := time.Now()
	behind := wait("behind", func(g mysql.ArchiveProgress) bool { return g.Bytes >= 150<<10 })
	if behind.PendingSince.IsZero() || behind.PendingSince.Before(written.Add(-time.Second)) || behind.At.Before(behind.PendingSince) {
		t.Errorf("behind by %d bytes since %s (measured %s), want since about %s", behind.Bytes, behind.PendingSince, behind.At, written)
	}
	after := wait("caught up after the store", caughtUp)
	if after.ServerSize < behind.ServerSize && after.ServerFile == behind.ServerFile {
		t.Errorf("caught up at %d, short of %d", after.ServerSize, behind.ServerSize)
	}
}
