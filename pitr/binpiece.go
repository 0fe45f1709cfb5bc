package pitr

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
)

// A binary log file is stored in pieces, each an archived log file of
// stream binlog (artefact/logarchive.go) whose name is the file's name, a
// letter for its kind and its offset in the file in ten digits:
//
//	<file>.p<offset>           a sealed piece (the file continues after it)
//	<file>.t<offset>.partial   the tail of a file being written (replaced as it grows)
//	<file>.e<offset>           the file's last piece: the file is complete
//
// such as "mariadb-bin.000007.p0016777216". The log file's trailer binds
// the name, so a piece moved to another file's or another offset's name,
// or a tail passed off as a sealed or last piece, is refused when read.
// The pieces of a file follow each other without a gap or an overlap from
// offset 0: each ends where the next starts (checked as they are read). A
// file is complete when its last piece is stored; a file being written
// reaches as far in time as its newest tail was stored (a restore checks
// that its pieces hold all that tail held). Earlier versions
// stored each file whole, "<file>" complete and "<file>.partial" as far as
// received; those are read still.

// pieceName matches a piece's log file name: the binary log file, the
// kind's letter and the offset.
var pieceName = regexp.MustCompile(`^(.+)\.([pte])([0-9]{10})$`)

// maxPieceOffset is the largest offset ten digits hold.
const maxPieceOffset = 9_999_999_999

// pieceLetters are the letters of the stored kinds.
var pieceLetters = map[mysql.PieceKind]string{mysql.PieceSealed: "p", mysql.PieceTail: "t", mysql.PieceLast: "e"}

// logName returns the log file name of a stored object of a binary log
// file, and whether it is stored partial.
func logName(p mysql.BinlogPiece) (string, bool, error) {
	if !engine.BinlogNamePattern.MatchString(p.File) {
		return "", false, fmt.Errorf("binary log file name %q: must be BASENAME.NNNNNN", p.File)
	}
	switch p.Kind {
	case mysql.WholeComplete, mysql.WholePartial:
		return p.File, p.Kind == mysql.WholePartial, nil
	}
	letter, ok := pieceLetters[p.Kind]
	if !ok {
		return "", false, fmt.Errorf("binary log %s: unknown piece kind %d", p.File, p.Kind)
	}
	if p.Offset < 0 || p.Offset > maxPieceOffset {
		return "", false, fmt.Errorf("binary log %s: piece offset %d out of range", p.File, p.Offset)
	}
	return fmt.Sprintf("%s.%s%010d", p.File, letter, p.Offset), p.Kind == mysql.PieceTail, nil
}

// parsePiece reads a listed log file of stream binlog; ok is false for a
// name that is not a binary log file or a piece of one, or that is stored
// partial where its kind is not (and the other way round).
func parsePiece(lf artefact.LogFile) (p mysql.BinlogPiece, ok bool) {
	p.ModTime = lf.ModTime
	if engine.BinlogNamePattern.MatchString(lf.Name) {
		p.File, p.Kind = lf.Name, mysql.WholeComplete
		if lf.Partial {
			p.Kind = mysql.WholePartial
		}
		return p, true
	}
	m := pieceName.FindStringSubmatch(lf.Name)
	if m == nil || !engine.BinlogNamePattern.MatchString(m[1]) {
		return p, false
	}
	off, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil {
		return p, false
	}
	p.File, p.Offset = m[1], off
	for k, l := range pieceLetters {
		if l == m[2] {
			p.Kind = k
		}
	}
	return p, lf.Partial == (p.Kind == mysql.PieceTail)
}

// BinlogObject is one stored object of a binary log file.
type BinlogObject struct {
	mysql.BinlogPiece
	// Log is the archived log file that holds it, as listed.
	Log artefact.LogFile
}

// BinlogFile is one binary log file as the archive's listing shows it.
type BinlogFile struct {
	Name string
	// Complete says the file is stored whole, to its end.
	Complete bool
	// Objects are what to read, in order, for the file's bytes: its
	// pieces by offset (for each offset the last piece, else the sealed
	// one, else the tail), or one object of the earlier form.
	Objects []BinlogObject
	// Reach is how far in time the file as stored reaches, as listed:
	// when a complete file was completed; for a file being written, when
	// its newest tail was stored (zero without one: it holds bytes, but
	// when they were received is not known).
	Reach time.Time
	// Tail is the newest tail of a file being written, also when a
	// sealed piece replaced it at its offset; nil without one.
	Tail *BinlogObject
	// Problem says why the listed objects cannot make the file (pieces
	// after its last one); empty when they can.
	Problem string
}

// Files lists the scope's binary log files by name.
func (b BinlogArchive) Files(ctx context.Context) (map[string]BinlogFile, error) {
	logs, err := artefact.ListLogs(ctx, b.a.Store, b.a.Scope, artefact.LogStreamBinlog)
	if err != nil {
		return nil, fmt.Errorf("cannot list the binary logs of scope %s: %w", b.a.Scope, err)
	}
	objs := map[string][]BinlogObject{}
	for _, lf := range logs {
		if p, ok := parsePiece(lf); ok {
			objs[p.File] = append(objs[p.File], BinlogObject{BinlogPiece: p, Log: lf})
		}
	}
	out := make(map[string]BinlogFile, len(objs))
	for name, list := range objs {
		out[name] = makeFile(name, list)
	}
	return out, nil
}

// rank orders the kinds stored at one offset: the higher is read.
var rank = map[mysql.PieceKind]int{mysql.PieceTail: 1, mysql.PieceSealed: 2, mysql.PieceLast: 3}

// makeFile works out a file from its listed objects.
func makeFile(name string, objs []BinlogObject) BinlogFile {
	f := BinlogFile{Name: name}
	var whole, wholePartial *BinlogObject
	at := map[int64]BinlogObject{}
	for i, o := range objs {
		switch o.Kind {
		case mysql.WholeComplete:
			whole = &objs[i]
		case mysql.WholePartial:
			wholePartial = &objs[i]
		default:
			if old, ok := at[o.Offset]; !ok || rank[o.Kind] > rank[old.Kind] {
				at[o.Offset] = o
			}
			if o.Kind == mysql.PieceTail && (f.Tail == nil || o.Offset > f.Tail.Offset) {
				f.Tail = &objs[i]
			}
		}
	}
	if whole != nil {
		f.Complete, f.Objects, f.Reach, f.Tail = true, []BinlogObject{*whole}, whole.ModTime, nil
		return f
	}
	offsets := slices.Sorted(func(yield func(int64) bool) {
		for off := range at {
			if !yield(off) {
				return
			}
		}
	})
	for _, off := range offsets {
		o := at[off]
		if f.Complete {
			f.Problem = fmt.Sprintf("a piece at %d follows its last piece at %d", off, f.Objects[len(f.Objects)-1].Offset)
			break
		}
		f.Objects = append(f.Objects, o)
		if o.Kind == mysql.PieceLast {
			f.Complete, f.Reach = true, o.ModTime
		}
	}
	if f.Complete {
		f.Tail = nil
		return f
	}
	if f.Tail != nil {
		f.Reach = f.Tail.ModTime
	}
	if wholePartial != nil && (len(f.Objects) == 0 || wholePartial.ModTime.After(f.Reach)) {
		f.Objects, f.Reach, f.Tail = []BinlogObject{*wholePartial}, wholePartial.ModTime, wholePartial
	}
	return f
}
