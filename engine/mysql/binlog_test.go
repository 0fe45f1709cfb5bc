package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// memSink is a BinlogSink in memory.
type memSink struct {
	mu       sync.Mutex
	complete map[string][]byte
	partial  map[string][]byte
	puts     int
}

func newMemSink() *memSink {
	return &memSink{complete: map[string][]byte{}, partial: map[string][]byte{}}
}

func (s *memSink) Archived(context.Context) (complete, partial []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.complete {
		complete = append(complete, n)
	}
	for n := range s.partial {
		partial = append(partial, n)
	}
	return complete, partial, nil
}

func (s *memSink) Put(_ context.Context, name string, partial bool, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if partial {
		s.partial[name] = b
		return nil
	}
	if _, ok := s.complete[name]; ok {
		return errors.New("stored complete twice: " + name)
	}
	s.complete[name] = b
	delete(s.partial, name)
	return nil
}

// files writes the archive to dir, complete files and the newest partial,
// and returns their paths in sequence order.
func (s *memSink) files(t *testing.T, dir string) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	all := map[string][]byte{}
	for n, b := range s.partial {
		all[n] = b
	}
	for n, b := range s.complete {
		all[n] = b
	}
	var paths []string
	for n, b := range all {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// archiveFor runs ArchiveBinlogs until stop is called, which returns its error.
func archiveFor(e *mysql.Engine, sink mysql.BinlogSink, log io.Writer) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: sink, Log: log, PartialEvery: 500 * time.Millisecond})
	}()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("ArchiveBinlogs did not return in 60 s")
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPointInTime backs up a database on a server with a binary log,
// archives the binary logs across a rotation and a restart of the
// archiver, and restores the backup then replays the archive up to a time
// between two batches: the database holds exactly the batches before it.
func TestPointInTime(t *testing.T) {
	m := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	ctx := context.Background()
	m.SQL(t, "", "CREATE DATABASE shop; CREATE TABLE shop.t (id int PRIMARY KEY, batch char(1)); INSERT INTO shop.t VALUES (1,'A'),(2,'A')")
	e := newEngine(m, "shop")
	sink := newMemSink()
	var log syncBuffer
	stop := archiveFor(e, sink, &log)

	dump, res, _ := backup(t, e)
	if res.Binlog == nil || !regexp.MustCompile(`^mariadb-bin\.[0-9]{6}$`).MatchString(res.Binlog.File) || res.Binlog.Position < 4 ||
		!regexp.MustCompile(`^0-1-[0-9]+$`).MatchString(res.Binlog.GTID) {
		t.Fatalf("Result.Binlog = %+v, want the file, position and GTID of the dump", res.Binlog)
	}
	m.SQL(t, "shop", "INSERT INTO t VALUES (3,'B'),(4,'B'); CREATE TABLE extra (x int); INSERT INTO extra VALUES (7); ALTER TABLE extra ADD COLUMN y int DEFAULT 5")
	m.SQL(t, "", "FLUSH BINARY LOGS")
	// Another database's events stay out of the replay, even a row
	// written into it from the backed-up database.
	m.SQL(t, "", "CREATE DATABASE other; CREATE TABLE other.o (i int PRIMARY KEY); INSERT INTO other.o VALUES (1)")
	m.SQL(t, "shop", "INSERT INTO other.o VALUES (2)")
	m.SQL(t, "shop", "CREATE TABLE gone (x int); DROP TABLE gone; UPDATE t SET batch='b' WHERE id=4")
	time.Sleep(1500 * time.Millisecond)
	// The archiver stops and resumes: the partial file is fetched again.
	if err := stop(); err != nil {
		t.Fatalf("ArchiveBinlogs: %v\n%s", err, log.String())
	}
	stop = archiveFor(e, sink, &log)
	time.Sleep(1100 * time.Millisecond)
	target := time.Now()
	time.Sleep(1100 * time.Millisecond)
	m.SQL(t, "shop", "INSERT INTO t VALUES (5,'C'); DROP TABLE extra")
	m.SQL(t, "", "FLUSH BINARY LOGS")
	time.Sleep(1500 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("ArchiveBinlogs: %v\n%s", err, log.String())
	}
	if len(sink.complete) < 2 || len(sink.partial) != 1 {
		t.Fatalf("archive: %d complete, %d partial files; want 2 or more and 1\n%s", len(sink.complete), len(sink.partial), log.String())
	}

	want := func(q string) string { return m.SQL(t, "shop", q) }
	check := func(stopAt time.Time, rows, extra string) {
		t.Helper()
		paths := sink.files(t, t.TempDir())
		for len(paths) > 0 && filepath.Base(paths[0]) != res.Binlog.File {
			paths = paths[1:]
		}
		chain, err := mysql.CheckBinlogChain(paths, *res.Binlog, stopAt)
		if err != nil {
			t.Fatalf("CheckBinlogChain: %v", err)
		}
		if _, err := e.Restore(ctx, engine.RestoreSpec{}, bytes.NewReader(dump)); err != nil {
			t.Fatalf("Restore: %v", err)
		}
		// The replay is not written to the binary log: archived again, it
		// would be replayed twice by a later restore.
		logged := m.SQL(t, "", "SHOW MASTER STATUS")
		var rlog bytes.Buffer
		if err := e.ReplayBinlogs(ctx, mysql.ReplaySpec{Chain: chain, Start: *res.Binlog, Stop: stopAt, Database: "shop", Log: &rlog}); err != nil {
			t.Fatalf("ReplayBinlogs: %v\n%s", err, rlog.String())
		}
		if got := m.SQL(t, "", "SHOW MASTER STATUS"); got != logged {
			t.Errorf("the replay wrote to the binary log: %q, then %q", logged, got)
		}
		if got := want("SELECT GROUP_CONCAT(i ORDER BY i) FROM other.o"); strings.TrimSpace(got) != "1,2" {
			t.Errorf("the replay of shop touched database other: %q", got)
		}
		if got := want("SELECT GROUP_CONCAT(id, batch ORDER BY id) FROM t"); strings.TrimSpace(got) != rows {
			t.Errorf("rows = %q, want %q", got, rows)
		}
		if got := want("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='shop' AND table_name IN ('extra','gone')"); strings.TrimSpace(got) != extra {
			t.Errorf("tables extra, gone = %s, want %s", got, extra)
		}
	}
	stopAt := target.Truncate(time.Second).Add(time.Second)
	check(stopAt, "1A,2A,3B,4b", "1")
	if got := want("SELECT x, y FROM extra"); strings.TrimSpace(got) != "7\t5" {
		t.Errorf("extra = %q, want 7 5 (created, filled and altered after the backup)", got)
	}
	check(time.Now().Add(2*time.Second), "1A,2A,3B,4b,5C", "0")
}
