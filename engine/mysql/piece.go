package mysql

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// DefaultPieceSize is the size of the pieces a binary log file is stored
// in when ArchiveSpec.PieceSize is zero.
const DefaultPieceSize = 16 << 20

// PieceKind says what a stored object of a binary log file holds.
type PieceKind int

const (
	// PieceSealed is a piece of a file that continues after it: stored
	// once, never replaced.
	PieceSealed PieceKind = iota + 1
	// PieceTail is the growing end of a file being written, from its
	// offset to what was received when it was stored; each tail replaces
	// the last. When it was stored says how far the archive reaches.
	PieceTail
	// PieceLast is a file's last piece: the file is complete.
	PieceLast
	// WholeComplete and WholePartial are the form earlier versions
	// stored: the whole file in one object, complete or as far as it was
	// received. They are read, never stored.
	WholeComplete
	WholePartial
)

// BinlogPiece names one stored object of a binary log file: a piece of
// the file from Offset on, or the whole file (Offset 0).
type BinlogPiece struct {
	// File is the server's name of the file, such as "mariadb-bin.000007".
	File   string
	Offset int64
	Kind   PieceKind
	// ModTime is when the object was stored, as a listing reports it.
	ModTime time.Time
}

// storedFile is what the archive holds of one file, from its listing.
type storedFile struct {
	complete bool
	// sealed are the offsets of its sealed pieces, starts the offsets
	// where any of its pieces starts, tails the offsets of its tails.
	sealed, starts map[int64]bool
	tails          []int64
	// wholePartial says an object of the earlier form holds the file
	// as far as it was received.
	wholePartial bool
}

// storedFiles sorts a listing by file.
func storedFiles(pieces []BinlogPiece) map[string]*storedFile {
	out := map[string]*storedFile{}
	for _, p := range pieces {
		f := out[p.File]
		if f == nil {
			f = &storedFile{sealed: map[int64]bool{}, starts: map[int64]bool{}}
			out[p.File] = f
		}
		switch p.Kind {
		case WholeComplete, PieceLast:
			f.complete = true
		case WholePartial:
			f.wholePartial = true
		case PieceSealed:
			f.sealed[p.Offset] = true
		case PieceTail:
			f.tails = append(f.tails, p.Offset)
		}
		if p.Kind == PieceSealed || p.Kind == PieceTail || p.Kind == PieceLast {
			f.starts[p.Offset] = true
		}
	}
	return out
}

// completeAndPartial returns the names of the files stored complete and
// of those stored partial.
func completeAndPartial(files map[string]*storedFile) (complete, partial []string) {
	for name, f := range files {
		if f.complete {
			complete = append(complete, name)
		} else {
			partial = append(partial, name)
		}
	}
	sortBinlogs(complete)
	sortBinlogs(partial)
	return complete, partial
}

// eventLen reads the size of the event at off of a binary log file.
func eventLen(r io.ReaderAt, off int64) (int64, error) {
	head := make([]byte, eventHeaderLen)
	if _, err := r.ReadAt(head, off); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint32(head[9:])), nil
}

// scanPieces scans what was received of the file being written (size
// bytes of f) and seals a piece each time what follows the tail's start
// holds a piece's worth: the piece ends after its last whole event within
// a.pieceSize bytes (or after its one event, when that is larger), and
// bytes follow it. The cuts depend on the file's bytes and the piece size
// only, so a restart cuts the same pieces. It reports whether a piece was
// sealed and whether the whole of what was received is scanned.
func (a *archiver) scanPieces(ctx context.Context, f *os.File, name string, size int64) (cut, all bool, err error) {
	for {
		limit := size
		if a.tailStart+a.pieceSize < size {
			limit = a.tailStart + a.pieceSize
			if a.tailStart > 0 && a.scan.End == a.tailStart {
				n, err := eventLen(f, a.tailStart)
				if err != nil {
					return cut, false, fmt.Errorf("cannot read the binary log at %d: %w", a.tailStart, err)
				}
				limit = min(size, max(limit, a.tailStart+n))
			}
		}
		if a.scan, err = scanBinlog(f, limit, a.scan); err != nil {
			return cut, false, fmt.Errorf("binary log %s: %w", name, err)
		}
		if limit == size {
			return cut, true, nil
		}
		if a.scan.End == a.tailStart {
			return cut, false, nil // the piece's first event is not whole yet
		}
		if err := a.seal(ctx, f, name, a.tailStart, a.scan.End); err != nil {
			return cut, false, err
		}
		a.tailStart, cut = a.scan.End, true
	}
}

// seal stores the bytes from..to of the file being written as a sealed
// piece, unless an earlier run stored that very piece. When an earlier
// run cut the file elsewhere (with another piece size), its pieces after
// this one are deleted once this one is stored: they would overlap.
func (a *archiver) seal(ctx context.Context, f *os.File, name string, from, to int64) error {
	had := a.had[name]
	if had != nil && had.sealed[from] && had.starts[to] {
		return nil
	}
	p := BinlogPiece{File: name, Offset: from, Kind: PieceSealed}
	if err := a.sink.Put(ctx, p, io.NewSectionReader(f, from, to-from)); err != nil {
		return fmt.Errorf("cannot store binary log %s from %d: %w", name, from, err)
	}
	a.storedFile, a.storedEnd = name, to
	if had == nil || !had.cutElsewhere(from, to) {
		return nil
	}
	for off := range had.sealed {
		if off > from {
			if err := a.sink.Delete(ctx, BinlogPiece{File: name, Offset: off, Kind: PieceSealed}); err != nil {
				return fmt.Errorf("cannot delete a piece of binary log %s cut by an earlier run at %d: %w", name, off, err)
			}
		}
	}
	had.sealed, had.starts = map[int64]bool{}, map[int64]bool{}
	return nil
}

// cutElsewhere reports whether the earlier run's pieces of a file do not
// fit the piece from..to: one starts inside it, or one starts where it
// does but ends elsewhere.
func (s *storedFile) cutElsewhere(from, to int64) bool {
	if s.sealed[from] && !s.starts[to] {
		return true
	}
	for off := range s.starts {
		if off > from && off < to {
			return true
		}
	}
	return false
}

// putTail stores the tail of the file being written, from a.tailStart to
// the scan's end, then deletes the tails it replaces.
func (a *archiver) putTail(ctx context.Context, f *os.File, name string) error {
	end := a.scan.End
	p := BinlogPiece{File: name, Offset: a.tailStart, Kind: PieceTail}
	if err := a.sink.Put(ctx, p, io.NewSectionReader(f, a.tailStart, end-a.tailStart)); err != nil {
		return fmt.Errorf("cannot store binary log %s from %d: %w", name, a.tailStart, err)
	}
	a.stored, a.storedAt = end, time.Now()
	a.storedFile, a.storedEnd = name, end
	stale := slices.DeleteFunc(a.tails, func(off int64) bool { return off == a.tailStart })
	a.tails = []int64{a.tailStart}
	for _, off := range stale {
		if err := a.sink.Delete(ctx, BinlogPiece{File: name, Offset: off, Kind: PieceTail}); err != nil {
			return fmt.Errorf("cannot delete the replaced tail of binary log %s at %d: %w", name, off, err)
		}
	}
	return nil
}

// putLast stores the last piece of a complete file, then deletes its
// tails and the whole partial object of an earlier version.
func (a *archiver) putLast(ctx context.Context, f *os.File, name string) error {
	end := a.scan.End
	p := BinlogPiece{File: name, Offset: a.tailStart, Kind: PieceLast}
	if err := a.sink.Put(ctx, p, io.NewSectionReader(f, a.tailStart, end-a.tailStart)); err != nil {
		return fmt.Errorf("cannot store binary log %s: %w", name, err)
	}
	logf(a.log, "stored binary log %s (%d bytes, complete)", name, end)
	a.storedFile, a.storedEnd = name, end
	for _, off := range a.tails {
		if err := a.sink.Delete(ctx, BinlogPiece{File: name, Offset: off, Kind: PieceTail}); err != nil {
			return fmt.Errorf("cannot delete the tail of binary log %s at %d: %w", name, off, err)
		}
	}
	a.tails = nil
	if had := a.had[name]; had != nil && had.wholePartial {
		if err := a.sink.Delete(ctx, BinlogPiece{File: name, Kind: WholePartial}); err != nil {
			return fmt.Errorf("cannot delete the partial copy of binary log %s: %w", name, err)
		}
	}
	return nil
}
