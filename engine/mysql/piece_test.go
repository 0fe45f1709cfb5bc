package mysql_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// sizedSink records the size of every piece stored through memSink.
type sizedSink struct {
	*memSink
	mu    sync.Mutex
	sizes map[mysql.PieceKind][]int64
}

func (s *sizedSink) Put(ctx context.Context, p mysql.BinlogPiece, r io.Reader) error {
	var n int64
	err := s.memSink.Put(ctx, p, io.TeeReader(r, writerFunc(func(b []byte) (int, error) { n += int64(len(b)); return len(b), nil })))
	s.mu.Lock()
	s.sizes[p.Kind] = append(s.sizes[p.Kind], n)
	s.mu.Unlock()
	return err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestArchiveInPieces: with 2 KiB pieces, files of hundreds of KiB are
// stored as many pieces, none larger than a piece, while rows are written
// and across a restart of the archiver in the middle of a file (a sealed
// piece stored twice fails the sink); each complete file the archive
// holds, its pieces put end to end, is the server's file byte for byte,
// and the file being written a prefix of the server's.
func TestArchiveInPieces(t *testing.T) {
	const piece = 2 << 10
	m := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	m.SQL(t, "", "CREATE DATABASE shop; CREATE TABLE shop.t (id int PRIMARY KEY, note text)")
	e := newEngine(m, "")
	sink := &sizedSink{memSink: newMemSink(), sizes: map[mysql.PieceKind][]int64{}}
	var log syncBuffer
	start := func() func() error {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- e.ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: sink, Log: &log, PartialEvery: 300 * time.Millisecond, PieceSize: piece})
		}()
		return func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(60 * time.Second):
				return fmt.Errorf("ArchiveBinlogs did not return in 60 s")
			}
		}
	}
	write := func(from, to int) {
		for i := from; i < to; i += 20 {
			var q strings.Builder
			for j := i; j < i+20; j++ {
				fmt.Fprintf(&q, "INSERT INTO t VALUES (%d, REPEAT('n', 300));", j)
			}
			m.SQL(t, "shop", q.String())
		}
	}
	stop := start()
	write(0, 300)
	time.Sleep(700 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("ArchiveBinlogs: %v\n%s", err, log.String())
	}
	stop = start()
	write(300, 600)
	m.SQL(t, "", "FLUSH BINARY LOGS")
	write(600, 800)
	time.Sleep(700 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("ArchiveBinlogs after the restart: %v\n%s", err, log.String())
	}

	sink.mu.Lock()
	for kind, sizes := range sink.sizes {
		for _, n := range sizes {
			if n > piece {
				t.Errorf("a piece of kind %d holds %d bytes, more than %d", kind, n, piece)
			}
		}
	}
	if n := len(sink.sizes[mysql.PieceSealed]); n < 100 {
		t.Errorf("%d sealed pieces for about 250 KB of binary log in 2 KiB pieces", n)
	}
	sink.mu.Unlock()
	if complete, partial := sink.count(); complete < 1 || partial != 1 {
		t.Fatalf("archive: %d complete, %d partial files; want 1 or more and 1\n%s", complete, partial, log.String())
	}
	paths := sink.files(t, t.TempDir())
	for i, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(m.Dir, "data", filepath.Base(p)))
		if err != nil {
			t.Fatal(err)
		}
		last := i == len(paths)-1
		switch {
		case !last && !bytes.Equal(got, want):
			t.Errorf("%s: archived %d bytes, not the server's %d", filepath.Base(p), len(got), len(want))
		case last && (len(got) < fdeEnd(got) || !bytes.HasPrefix(want[fdeEnd(got):], got[fdeEnd(got):])):
			// The server's open file says "in use" in its first event.
			t.Errorf("%s (being written): archived %d bytes, not a prefix of the server's %d", filepath.Base(p), len(got), len(want))
		}
	}
	if !strings.Contains(log.String(), "complete)") {
		t.Errorf("no file stored complete:\n%s", log.String())
	}
}

// fdeEnd is where the first event of a binary log file ends.
func fdeEnd(b []byte) int {
	if len(b) < 4+19 {
		return len(b) + 1
	}
	return 4 + int(binary.LittleEndian.Uint32(b[4+9:]))
}

// TestArchiveInPiecesOfAnotherSize: started again with another piece size
// in the middle of a file, the archiver cuts it anew and deletes the
// earlier run's pieces that would overlap: the archive's pieces of the
// file still follow each other (memSink.files checks) and hold the
// server's bytes.
func TestArchiveInPiecesOfAnotherSize(t *testing.T) {
	m := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	m.SQL(t, "", "CREATE DATABASE shop; CREATE TABLE shop.t (id int PRIMARY KEY, note text)")
	e := newEngine(m, "")
	sink := newMemSink()
	var log syncBuffer
	run := func(piece int64, from int) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- e.ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: sink, Log: &log, PartialEvery: 300 * time.Millisecond, PieceSize: piece})
		}()
		for i := from; i < from+300; i += 20 {
			var q strings.Builder
			for j := i; j < i+20; j++ {
				fmt.Fprintf(&q, "INSERT INTO t VALUES (%d, REPEAT('n', 300));", j)
			}
			m.SQL(t, "shop", q.String())
		}
		time.Sleep(700 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ArchiveBinlogs with %d-byte pieces: %v\n%s", piece, err, log.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatal("ArchiveBinlogs did not return in 60 s")
		}
	}
	run(3000, 0)
	run(2048, 300)
	paths := sink.files(t, t.TempDir())
	if len(paths) != 1 {
		t.Fatalf("archive holds %v, want the one file being written", paths)
	}
	got, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(m.Dir, "data", filepath.Base(paths[0])))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 100<<10 || !bytes.HasPrefix(want[fdeEnd(got):], got[fdeEnd(got):]) {
		t.Errorf("archived %d bytes, not a prefix of the server's %d", len(got), len(want))
	}
}
