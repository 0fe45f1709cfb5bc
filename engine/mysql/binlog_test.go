package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// memSink is a BinlogSink in memory: each file's pieces by offset.
type memSink struct {
	mu     sync.Mutex
	pieces map[string]map[int64]memPiece
	puts   int
	bytes  int64 // uploaded in all
}

// memPiece is one stored piece.
type memPiece struct {
	kind mysql.PieceKind
	b    []byte
}

func newMemSink() *memSink { return &memSink{pieces: map[string]map[int64]memPiece{}} }

func (s *memSink) Archived(context.Context) ([]mysql.BinlogPiece, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []mysql.BinlogPiece
	for name, ps := range s.pieces {
		for off, p := range ps {
			out = append(out, mysql.BinlogPiece{File: name, Offset: off, Kind: p.kind})
		}
	}
	return out, nil
}

func (s *memSink) Put(_ context.Context, p mysql.BinlogPiece, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	s.bytes += int64(len(b))
	ps := s.pieces[p.File]
	if ps == nil {
		ps = map[int64]memPiece{}
		s.pieces[p.File] = ps
	}
	if old, ok := ps[p.Offset]; ok && old.kind != mysql.PieceTail && bytes.Equal(old.b, b) {
		return fmt.Errorf("stored %s at %d twice", p.File, p.Offset)
	}
	if p.Kind != mysql.PieceTail && s.completeLocked(p.File) {
		return fmt.Errorf("stored %s at %d after its last piece", p.File, p.Offset)
	}
	ps[p.Offset] = memPiece{p.Kind, b}
	return nil
}

func (s *memSink) Delete(_ context.Context, p mysql.BinlogPiece) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.pieces[p.File][p.Offset]; ok && old.kind == p.Kind {
		delete(s.pieces[p.File], p.Offset)
	}
	return nil
}

func (s *memSink) completeLocked(name string) bool {
	for _, p := range s.pieces[name] {
		if p.kind == mysql.PieceLast {
			return true
		}
	}
	return false
}

// count returns how many files are complete and how many partial.
func (s *memSink) count() (complete, partial int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.pieces {
		if s.completeLocked(name) {
			complete++
		} else {
			partial++
		}
	}
	return complete, partial
}

// files writes the archive to dir, each file's pieces one after the
// other (checking that each starts where the last ended), and returns
// their paths in sequence order.
func (s *memSink) files(t *testing.T, dir string) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var paths []string
	for name, ps := range s.pieces {
		offs := slices.Sorted(maps.Keys(ps))
		var b []byte
		for _, off := range offs {
			if off != int64(len(b)) {
				t.Fatalf("%s: a piece at %d after %d bytes", name, off, len(b))
			}
			b = append(b, ps[off].b...)
		}
		p := filepath.Join(dir, name)
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
	if complete, partial := sink.count(); complete < 2 || partial != 1 {
		t.Fatalf("archive: %d complete, %d partial files; want 2 or more and 1\n%s", complete, partial, log.String())
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
