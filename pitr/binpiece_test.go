package pitr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// Each kind of piece has its own name, read back as that kind; names
// that are not pieces, and pieces stored partial where their kind is not
// (or the other way round), are not taken.
func TestPieceNames(t *testing.T) {
	for _, p := range []mysql.BinlogPiece{
		{File: "mariadb-bin.000007", Offset: 16 << 20, Kind: mysql.PieceSealed},
		{File: "mariadb-bin.000007", Offset: 0, Kind: mysql.PieceTail},
		{File: "mariadb-bin.000007", Offset: maxPieceOffset, Kind: mysql.PieceLast},
		{File: "mariadb-bin.000007", Kind: mysql.WholeComplete},
		{File: "mariadb-bin.000007", Kind: mysql.WholePartial},
	} {
		name, partial, err := logName(p)
		if err != nil {
			t.Fatalf("logName(%+v): %v", p, err)
		}
		got, ok := parsePiece(artefact.LogFile{Name: name, Partial: partial})
		if !ok || got != p {
			t.Errorf("%s (partial %t) reads as %+v, %t; want %+v", name, partial, got, ok, p)
		}
	}
	if name, _, _ := logName(mysql.BinlogPiece{File: "b.000001", Offset: 2048, Kind: mysql.PieceSealed}); name != "b.000001.p0000002048" {
		t.Errorf("sealed piece name %q", name)
	}
	for _, p := range []mysql.BinlogPiece{
		{File: "mariadb-bin", Kind: mysql.PieceSealed},
		{File: "mariadb-bin.000001", Offset: -1, Kind: mysql.PieceTail},
		{File: "mariadb-bin.000001", Offset: maxPieceOffset + 1, Kind: mysql.PieceLast},
		{File: "mariadb-bin.000001", Kind: 0},
	} {
		if name, _, err := logName(p); err == nil {
			t.Errorf("logName(%+v) = %q, want an error", p, name)
		}
	}
	for _, lf := range []artefact.LogFile{
		{Name: "mariadb-bin.000001.t0000000000"},                // a tail stored complete
		{Name: "mariadb-bin.000001.p0000000000", Partial: true}, // a sealed piece stored partial
		{Name: "mariadb-bin.000001.e0000000000", Partial: true},
		{Name: "mariadb-bin.000001.x0000000000"},
		{Name: "mariadb-bin.000001.p000000000"},
		{Name: "mariadb-bin.p0000000000"},
		{Name: "notes.txt"},
	} {
		if p, ok := parsePiece(lf); ok {
			t.Errorf("%s (partial %t) read as %+v", lf.Name, lf.Partial, p)
		}
	}
}

func FuzzParsePiece(f *testing.F) {
	f.Add("mariadb-bin.000001.p0000002048", false)
	f.Add("mariadb-bin.000001.t0000000000", true)
	f.Add("mariadb-bin.000001", true)
	f.Fuzz(func(t *testing.T, name string, partial bool) {
		p, ok := parsePiece(artefact.LogFile{Name: name, Partial: partial})
		if !ok {
			return
		}
		back, backPartial, err := logName(p)
		if err != nil || back != name || backPartial != partial {
			t.Fatalf("%q (partial %t) reads as %+v, written back as %q (partial %t), %v", name, partial, p, back, backPartial, err)
		}
	})
}

// makeFile reads the pieces of a file as the archiver leaves them, at
// every step and after a crash between two steps: for each offset the
// last piece, else the sealed one, else the tail; the reach is the newest
// tail's (also when a sealed piece replaced it), or the last piece's; a
// piece after the last is a problem; the whole-file form of earlier
// versions is read too.
func TestMakeFile(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	obj := func(kind mysql.PieceKind, off int64, sec int) BinlogObject {
		p := mysql.BinlogPiece{File: "b.000001", Offset: off, Kind: kind, ModTime: t0.Add(time.Duration(sec) * time.Second)}
		name, partial, err := logName(p)
		if err != nil {
			t.Fatal(err)
		}
		return BinlogObject{BinlogPiece: p, Log: artefact.LogFile{Name: name, Partial: partial, Key: name, ModTime: p.ModTime}}
	}
	S, T, L := mysql.PieceSealed, mysql.PieceTail, mysql.PieceLast
	for _, tc := range []struct {
		name     string
		objs     []BinlogObject
		want     string // kinds and offsets of the objects read
		complete bool
		reach    int // seconds after t0; -1: zero
		problem  string
	}{
		{"a tail alone", []BinlogObject{obj(T, 0, 1)}, "t0", false, 1, ""},
		{"sealed pieces and a tail", []BinlogObject{obj(S, 0, 1), obj(S, 100, 2), obj(T, 200, 3)}, "p0 p100 t200", false, 3, ""},
		{"a stale tail under a sealed piece", []BinlogObject{obj(T, 0, 1), obj(S, 0, 2), obj(T, 100, 3)}, "p0 t100", false, 3, ""},
		{"sealed, the new tail not stored yet", []BinlogObject{obj(S, 0, 2), obj(T, 0, 1), obj(S, 100, 3)}, "p0 p100", false, 1, ""},
		{"sealed pieces without a tail", []BinlogObject{obj(S, 0, 1), obj(S, 100, 2)}, "p0 p100", false, -1, ""},
		{"the last piece over a tail", []BinlogObject{obj(S, 0, 1), obj(T, 100, 2), obj(L, 100, 3)}, "p0 e100", true, 3, ""},
		{"a piece after the last", []BinlogObject{obj(L, 0, 1), obj(S, 100, 2)}, "e0", true, 1, "follows its last piece"},
	} {
		f := makeFile("b.000001", tc.objs)
		var got []string
		for _, o := range f.Objects {
			got = append(got, fmt.Sprintf("%s%d", pieceLetters[o.Kind], o.Offset))
		}
		gotS := strings.Join(got, " ")
		reach := t0.Add(time.Duration(tc.reach) * time.Second)
		if tc.reach < 0 {
			reach = time.Time{}
		}
		if gotS != tc.want || f.Complete != tc.complete || !f.Reach.Equal(reach) || !strings.Contains(f.Problem, tc.problem) || (tc.problem == "") != (f.Problem == "") {
			t.Errorf("%s: objects %q, complete %t, reach %v, problem %q; want %q, %t, %v, %q",
				tc.name, gotS, f.Complete, f.Reach, f.Problem, tc.want, tc.complete, reach, tc.problem)
		}
	}

	whole := obj(mysql.WholeComplete, 0, 5)
	whole.Log.Name = "b.000001"
	if f := makeFile("b.000001", []BinlogObject{obj(S, 0, 1), whole}); !f.Complete || len(f.Objects) != 1 || f.Objects[0].Kind != mysql.WholeComplete {
		t.Errorf("a whole complete file beside pieces: %+v", f)
	}
	older := obj(mysql.WholePartial, 0, 2)
	if f := makeFile("b.000001", []BinlogObject{older, obj(S, 0, 1), obj(T, 100, 3)}); f.Complete || len(f.Objects) != 2 || f.Reach != t0.Add(3*time.Second) {
		t.Errorf("pieces newer than a whole partial file: %+v", f)
	}
	newer := obj(mysql.WholePartial, 0, 4)
	if f := makeFile("b.000001", []BinlogObject{newer, obj(S, 0, 1), obj(T, 100, 3)}); len(f.Objects) != 1 || f.Objects[0].Kind != mysql.WholePartial || f.Reach != t0.Add(4*time.Second) {
		t.Errorf("a whole partial file newer than the pieces: %+v", f)
	}
}

// Through the store: a file's pieces are read end to end; a gap, an
// overlap or a piece after the last is refused; a MariaDB window runs to
// the newest tail of the file being written, and a file being written
// without a tail does not extend it.
func TestBinlogPiecesInTheStore(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	b := Archive{Store: st, Scope: "my", Key: key(7)}.Binlogs()
	put := func(file string, kind mysql.PieceKind, off int64, body string) {
		t.Helper()
		if err := b.Put(ctx, mysql.BinlogPiece{File: file, Offset: off, Kind: kind}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	put("b.000001", mysql.PieceSealed, 0, "0123")
	put("b.000001", mysql.PieceSealed, 4, "4567")
	put("b.000001", mysql.PieceTail, 8, "89")
	var out bytes.Buffer
	f, n, err := b.Get(ctx, "b.000001", &out)
	if err != nil || n != 10 || out.String() != "0123456789" || f.Complete {
		t.Fatalf("Get = %q, %d, %+v, %v", out.String(), n, f, err)
	}
	put("b.000001", mysql.PieceLast, 8, "89ab")
	if err := b.Delete(ctx, mysql.BinlogPiece{File: "b.000001", Offset: 8, Kind: mysql.PieceTail}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if f, _, err := b.Get(ctx, "b.000001", &out); err != nil || out.String() != "0123456789ab" || !f.Complete {
		t.Fatalf("Get of the complete file = %q, %+v, %v", out.String(), f, err)
	}

	files, err := b.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := engine.BinlogPosition{File: "b.000001", Position: 4}
	first := files["b.000001"].Reach
	if got := reachedFrom(files, base); !got.Equal(first) {
		t.Errorf("reach of a complete file = %v, want its last piece's %v", got, first)
	}
	put("b.000002", mysql.PieceSealed, 0, "xy")
	files, _ = b.Files(ctx)
	if got := reachedFrom(files, base); !got.Equal(first) {
		t.Errorf("a file being written without a tail moved the reach to %v, from %v", got, first)
	}
	put("b.000002", mysql.PieceTail, 2, "z")
	files, _ = b.Files(ctx)
	if got := reachedFrom(files, base); !got.Equal(files["b.000002"].Tail.ModTime) || got.IsZero() {
		t.Errorf("reach = %v, want the tail's %v", got, files["b.000002"].Tail.ModTime)
	}

	// A tail a sealed piece replaced tells the reach only when the
	// pieces hold all it held.
	put("b.000007", mysql.PieceTail, 0, "0123456")
	put("b.000007", mysql.PieceSealed, 0, "0123")
	files, _ = b.Files(ctx)
	if reach, err := b.download(ctx, files["b.000007"], t.TempDir()+"/longer"); err != nil || !reach.IsZero() {
		t.Errorf("reach of pieces shorter than their tail = %v, %v; want none", reach, err)
	}
	put("b.000007", mysql.PieceTail, 0, "012")
	files, _ = b.Files(ctx)
	if reach, err := b.download(ctx, files["b.000007"], t.TempDir()+"/shorter"); err != nil || reach.IsZero() {
		t.Errorf("reach of pieces that hold their tail = %v, %v; want the tail's", reach, err)
	}

	put("b.000003", mysql.PieceSealed, 0, "ab") // a gap
	put("b.000003", mysql.PieceTail, 3, "d")
	put("b.000004", mysql.PieceSealed, 0, "ab") // an overlap
	put("b.000004", mysql.PieceTail, 1, "bc")
	put("b.000005", mysql.PieceLast, 0, "ab") // a piece after the last
	put("b.000005", mysql.PieceSealed, 2, "cd")
	put("b.000006", mysql.PieceTail, 2, "cd") // no first piece
	for file, want := range map[string]string{
		"b.000003": "the piece from 2 to 3 is missing",
		"b.000004": "the piece at 1 overlaps",
		"b.000005": "follows its last piece",
		"b.000006": "the piece from 0 to 2 is missing",
	} {
		out.Reset()
		_, _, err := b.Get(ctx, file, &out)
		if !errors.Is(err, artefact.ErrCorrupt) || !strings.Contains(err.Error(), want) {
			t.Errorf("Get %s = %v, want ErrCorrupt and %q", file, err, want)
		}
	}
}

// event is one binary log event at pos with a CRC-32: typ, stamped at ts.
func event(typ byte, ts time.Time, pos int, body []byte) []byte {
	n := 19 + len(body) + 4
	e := make([]byte, 19, n)
	binary.LittleEndian.PutUint32(e[0:], uint32(ts.Unix()))
	e[4] = typ
	binary.LittleEndian.PutUint32(e[5:], 1)
	binary.LittleEndian.PutUint32(e[9:], uint32(n))
	binary.LittleEndian.PutUint32(e[13:], uint32(pos+n))
	e = append(e, body...)
	return binary.LittleEndian.AppendUint32(e, crc32.ChecksumIEEE(e))
}

// racingStore runs step at the first Get of key, then answers it as the
// store then is: as an archiver that replaced a tail while it was read.
type racingStore struct {
	*memstore.Store
	key  string
	step func()
	once sync.Once
}

func (s *racingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.key {
		s.once.Do(s.step)
	}
	return s.Store.Get(ctx, key)
}

// Fetch lists the archive again when the tail of the file being written
// went while it was read (a sealed piece and a new tail took its place),
// and reaches the stop time through them.
func TestFetchListsAgainWhenTheTailChanged(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	fde := make([]byte, 2+50+4+1+1) // version, server version, created, header length, checksum algorithm
	fde[0], fde[56], fde[57] = 4, 19, 1
	file := []byte("\xfebin")
	file = append(file, event(15, t0, len(file), fde)...)
	a := len(file)
	file = append(file, event(2, t0, len(file), []byte("first"))...)
	b := len(file)
	file = append(file, event(2, t0.Add(5*time.Second), len(file), []byte("second"))...)

	st := &racingStore{Store: memstore.New()}
	arch := Archive{Store: st, Scope: "my"}.Binlogs()
	put := func(kind mysql.PieceKind, from, to int) {
		t.Helper()
		if err := arch.Put(ctx, mysql.BinlogPiece{File: "b.000001", Offset: int64(from), Kind: kind}, bytes.NewReader(file[from:to])); err != nil {
			t.Fatal(err)
		}
	}
	put(mysql.PieceSealed, 0, a)
	put(mysql.PieceTail, a, b)
	st.key = "my/_logs/binlog/b.000001.t" + fmt.Sprintf("%010d", a) + ".partial"
	st.step = func() {
		put(mysql.PieceSealed, a, b)
		put(mysql.PieceTail, b, len(file))
		if err := arch.Delete(ctx, mysql.BinlogPiece{File: "b.000001", Offset: int64(a), Kind: mysql.PieceTail}); err != nil {
			t.Fatal(err)
		}
	}
	stop := t0.Add(3 * time.Second)
	chain, err := arch.Fetch(ctx, engine.BinlogPosition{File: "b.000001", Position: uint64(a)}, stop, t.TempDir())
	if err != nil || !chain.Reaches || len(chain.Paths) != 1 {
		t.Fatalf("Fetch = %+v, %v; want the file, reaching %v", chain, err, stop)
	}
	got, err := os.ReadFile(chain.Paths[0])
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("fetched %d bytes (%v), want the %d of the file", len(got), err, len(file))
	}
}
