package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/storetest"
)

// dyingSink is a binary log archive whose process dies in the middle of
// a tail's upload: at the tail it is told to (not an empty one), it reads
// it, stores nothing, and from then on stores nothing at all, as a
// process killed with SIGKILL during that upload would.
type dyingSink struct {
	pitr.BinlogArchive
	tails atomic.Int64 // tails left before it dies; armed when positive
	dead  chan struct{}
	once  sync.Once
}

var errDied = errors.New("the archiver died")

func (s *dyingSink) Put(ctx context.Context, p mysql.BinlogPiece, r io.Reader) error {
	select {
	case <-s.dead:
		return errDied
	default:
	}
	if p.Kind == mysql.PieceTail && s.tails.Add(-1) == 0 {
		var tail bytes.Buffer
		if _, err := io.Copy(&tail, r); err != nil {
			return err
		}
		if tail.Len() == 0 {
			s.tails.Store(1) // die at the next one
			return s.BinlogArchive.Put(ctx, p, &tail)
		}
		s.once.Do(func() { close(s.dead) })
		return errDied
	}
	return s.BinlogArchive.Put(ctx, p, r)
}

func (s *dyingSink) Delete(ctx context.Context, p mysql.BinlogPiece) error {
	select {
	case <-s.dead:
		return errDied
	default:
		return s.BinlogArchive.Delete(ctx, p)
	}
}

// TestMariaDBRestoreToTimeInPieces: with 2 KiB pieces, binary log files
// span many pieces. The archiver dies in the middle of a tail's upload,
// then is killed with SIGKILL under load, and is started again each time;
// restores to a time between batches and after the last give exactly the
// dumps taken then. A missing middle piece, a truncated one, one swapped
// with another offset's or another file's, and one overlapping its
// neighbour are each refused before any statement reaches the server (the
// database unchanged); the same archive rewritten in the whole-file form
// of earlier versions still restores.
func TestMariaDBRestoreToTimeInPieces(t *testing.T) {
	db := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	s := newS3Fixture(t)
	bin := buildCLI(t)
	t.Setenv("MYSQL_PWD", db.Password)
	ctx := context.Background()
	st, _, err := openStore(s.cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	arch := pitr.Archive{Store: st, Scope: "my"}.Binlogs()
	db.SQL(t, "", "CREATE DATABASE shop")
	db.SQL(t, "shop", "CREATE TABLE t (id int PRIMARY KEY, batch char(1), note text); INSERT INTO t SELECT seq, 'A', 'a' FROM seq_1_to_100")

	// The first archiver runs here and dies in the middle of a tail.
	eng, _, err := openEngine("mysql", db.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	sink := &dyingSink{BinlogArchive: arch, dead: make(chan struct{})}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	died := make(chan error, 1)
	go func() {
		died <- eng.(*mysql.Engine).ArchiveBinlogs(actx, mysql.ArchiveSpec{Sink: sink, PieceSize: 2048, PartialEvery: 300 * time.Millisecond})
	}()
	code, out, errOut := runCLI(t, "", "backup", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--scope", "my", "--job-id", "base", "--json")
	if code != 0 {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	var rep backupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	next := 101
	batch := func(tag string, n int) {
		t.Helper()
		var q strings.Builder
		for range n {
			fmt.Fprintf(&q, "INSERT INTO t VALUES (%d, '%s', REPEAT('%s', 200));", next, tag, strings.ToLower(tag))
			next++
		}
		db.SQL(t, "shop", q.String())
	}
	sink.tails.Store(4)
	for i := 0; ; i++ {
		batch("B", 10)
		time.Sleep(100 * time.Millisecond)
		select {
		case <-sink.dead:
		default:
			if i == 300 {
				t.Fatal("the archiver did not reach its fourth tail")
			}
			continue
		}
		break
	}
	cancel()
	if err := <-died; !errors.Is(err, errDied) {
		t.Fatalf("the dying archiver returned %v", err)
	}
	db.SQL(t, "shop", "CREATE TABLE extra (x int); INSERT INTO extra VALUES (1); ALTER TABLE extra ADD COLUMN y int DEFAULT 5")

	// The command line's archiver resumes, and is killed under load.
	archive := func() *archiverProc {
		return startArchiver(t, bin, db.Password, "--database-url", db.URL(""), "--storage-config", s.cfgFile, "--scope", "my", "--piece-size", "2048")
	}
	proc := archive()
	for range 30 {
		batch("B", 10)
		time.Sleep(50 * time.Millisecond)
	}
	if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-proc.exited
	batch("B", 50)
	proc = archive()
	db.SQL(t, "", "FLUSH BINARY LOGS")
	batch("B", 100)
	waitStored(t, s, "my", currentBinlog(t, db), true, proc)
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	atTarget := db.Dump(t, "shop")
	time.Sleep(1100 * time.Millisecond)
	batch("C", 200)
	db.SQL(t, "", "FLUSH BINARY LOGS")
	batch("C", 100)
	db.SQL(t, "shop", "DROP TABLE extra")
	atEnd := db.Dump(t, "shop")
	time.Sleep(1100 * time.Millisecond)
	afterEnd := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond) // the last tail, at SIGTERM, is stored after afterEnd
	if code := proc.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("archive-binlog after SIGTERM: exit %d\n%s", code, proc.out.String())
	}

	files, err := arch.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var complete, partial []pitr.BinlogFile
	for _, f := range files {
		if f.Complete {
			complete = append(complete, f)
		} else {
			partial = append(partial, f)
		}
	}
	if len(complete) < 2 || len(partial) != 1 || len(partial[0].Objects) < 3 {
		t.Fatalf("archive: %d complete files, %d partial; want 2 or more and 1 of 3 pieces or more", len(complete), len(partial))
	}
	var spanning pitr.BinlogFile // a complete file of many pieces
	for _, f := range complete {
		if len(f.Objects) > len(spanning.Objects) {
			spanning = f
		}
	}
	if len(spanning.Objects) < 4 || spanning.Objects[len(spanning.Objects)-1].Kind != mysql.PieceLast {
		t.Fatalf("the largest complete file %s has %d pieces", spanning.Name, len(spanning.Objects))
	}

	restore := func(at time.Time) (int, string) {
		code, out, errOut := runCLI(t, "", "restore", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile,
			"--artefact-path", rep.ArtefactPath, "--restore-to-time", at.Format(time.RFC3339Nano))
		return code, out + errOut
	}
	restored := func(what string, at time.Time, want string) {
		t.Helper()
		if code, out := restore(at); code != 0 {
			t.Fatalf("%s: restore to %s: code %d\n%s", what, at, code, out)
		}
		if got := db.Dump(t, "shop"); got != want {
			t.Fatalf("%s: restored to %s:\n%s\nwant\n%s", what, at, got, want)
		}
	}
	restored("pieces", target, atTarget)
	restored("pieces", afterEnd, atEnd)

	// Refusals leave the database as it is.
	db.SQL(t, "shop", "INSERT INTO t (id, batch) VALUES (99999, 'Z')")
	before := db.Dump(t, "shop")
	key := func(o pitr.BinlogObject) string { return "prod/" + o.Log.Key }
	refused := func(what, want string) {
		t.Helper()
		code, out := restore(afterEnd)
		t.Logf("%s: %s", what, strings.TrimSpace(out))
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("%s: code %d, want 1 and %q\n%s", what, code, want, out)
		}
		if got := db.Dump(t, "shop"); got != before {
			t.Fatalf("%s: the refused restore changed the database", what)
		}
	}
	// replaced puts b at the key of o and returns what undoes it.
	replaced := func(o pitr.BinlogObject, b []byte) (undo func()) {
		var old []byte
		storetest.Rewrite(t, s.root, key(o), func(was []byte) []byte { old = was; return b })
		return func() { storetest.Rewrite(t, s.root, key(o), func([]byte) []byte { return old }) }
	}
	read := func(o pitr.BinlogObject) []byte {
		var b []byte
		storetest.Rewrite(t, s.root, key(o), func(was []byte) []byte { b = was; return was })
		return b
	}
	middle, other := spanning.Objects[1], spanning.Objects[2]
	saved := read(middle)
	if err := s.root.Delete(ctx, key(middle)); err != nil {
		t.Fatal(err)
	}
	refused("a missing middle piece", fmt.Sprintf("the piece from %d to %d is missing", middle.Offset, other.Offset))
	if _, err := s.root.Put(ctx, key(middle), bytes.NewReader(saved), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	undo := replaced(middle, read(middle)[:len(read(middle))/2])
	refused("a truncated piece", middle.Log.Name)
	undo()
	undo = replaced(middle, read(other))
	refused("a piece swapped with another offset's", other.Log.Name)
	undo()
	var foreign *pitr.BinlogObject
	for _, f := range files {
		for _, o := range f.Objects {
			if f.Name != spanning.Name && o.Offset == spanning.Objects[0].Offset {
				foreign = &o
			}
		}
	}
	undo = replaced(spanning.Objects[0], read(*foreign))
	refused("a piece swapped with another file's", foreign.Log.Name)
	undo()
	overlap := middle
	overlap.Offset++
	name := fmt.Sprintf("%s.p%010d", spanning.Name, overlap.Offset)
	if _, err := artefact.PutLog(ctx, st, artefact.LogFileOptions{Scope: "my", Stream: artefact.LogStreamBinlog, Name: name}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	refused("an overlapping piece", fmt.Sprintf("the piece at %d overlaps", overlap.Offset))
	if err := artefact.DeleteLog(ctx, st, "my", artefact.LogStreamBinlog, name, false); err != nil {
		t.Fatal(err)
	}
	restored("pieces put back", target, atTarget)

	// The whole-file form of earlier versions: each file one object,
	// "<file>" complete and "<file>.partial" being written.
	for _, f := range files {
		var whole bytes.Buffer
		if _, _, err := arch.Get(ctx, f.Name, &whole); err != nil {
			t.Fatal(err)
		}
		o := artefact.LogFileOptions{Scope: "my", Stream: artefact.LogStreamBinlog, Name: f.Name, Partial: !f.Complete}
		if _, err := artefact.PutLog(ctx, st, o, &whole); err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Objects {
			if err := st.Delete(ctx, p.Log.Key); err != nil {
				t.Fatal(err)
			}
		}
	}
	for obj, err := range s.root.List(ctx, "prod/my/_logs/binlog/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.TrimPrefix(obj.Key, "prod/my/_logs/binlog/"); strings.Count(strings.TrimSuffix(n, ".partial"), ".") != 1 {
			t.Fatalf("a piece is left: %s", obj.Key)
		}
	}
	restored("the whole-file form", target, atTarget)
	restored("the whole-file form", afterEnd, atEnd)
}
