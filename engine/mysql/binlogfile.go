package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// The binary log file format (version 4, MariaDB 10 and MySQL 5.6 on): a
// 4-byte magic, then events, each a 19-byte header (timestamp, type,
// server id, size, end position, flags) and a body that ends in a CRC-32
// of the event when the file's format description event says so.
const (
	binlogMagic     = "\xfebin"
	eventHeaderLen  = 19
	evStop          = 3
	evRotate        = 4
	evFormatDesc    = 15
	maxEventSize    = 1<<30 + 1<<20 // max_allowed_packet's ceiling and room for the header
	maxSmallEvent   = 64 << 10      // format description and rotate events
	checksumCRC32   = 1
	checksumLen     = 4
	formatDescFixed = 2 + 50 + 4 + 1 // version, server version, created, header length
)

// ErrBadBinlog is wrapped by every error about the bytes of a binary log
// file: a bad magic, an event that does not fit, a wrong CRC-32, a broken
// sequence.
var ErrBadBinlog = errors.New("bad binary log")

// binlogNamePattern is a binary log file name.
var binlogNamePattern = engine.BinlogNamePattern

// parseBinlogName splits a binary log file name into its basename and
// sequence number.
func parseBinlogName(name string) (base string, seq uint64, err error) {
	m := binlogNamePattern.FindStringSubmatch(name)
	if m == nil {
		return "", 0, fmt.Errorf("binary log file name %q: must be BASENAME.NNNNNN", name)
	}
	seq, err = strconv.ParseUint(m[2], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("binary log file name %q: %w", name, err)
	}
	return m[1], seq, nil
}

// NextBinlog returns the name of the binary log file the server writes
// after name ("mariadb-bin.000008" after "mariadb-bin.000007").
func NextBinlog(name string) (string, error) {
	base, seq, err := parseBinlogName(name)
	if err != nil {
		return "", err
	}
	width := len(name) - len(base) - 1
	return fmt.Sprintf("%s.%0*d", base, width, seq+1), nil
}

// binlogInfo is what a scan of a binary log file found.
type binlogInfo struct {
	// End is the offset after the last whole event: what may be uploaded
	// or replayed of a file still being written.
	End int64
	// Events counts the whole events; First and Last are the timestamps of
	// the first and last of them.
	Events      int
	First, Last time.Time
	// Next is the file a rotate event at the very end names; Stopped says
	// the file ends with the server's stop event. Either makes it complete.
	Next    string
	Stopped bool
	// Truncated says bytes follow End that do not make a whole event.
	Truncated bool
	checksum  bool
	// Mark, when set, is an offset the scan looks for; Marked says an
	// event starts there (or the whole events end there).
	Mark   int64
	Marked bool
}

// Complete reports whether the file ends as the server ends a file it has
// finished writing.
func (b binlogInfo) Complete() bool { return !b.Truncated && (b.Next != "" || b.Stopped) }

// scanBinlog reads the events of r (size bytes) from b.End on, checking
// each event's place and CRC-32, and returns the updated scan. A scan of a
// growing file continues where the last one stopped: pass its result.
// Bytes that do not make a whole event yet set Truncated; anything that
// cannot be a binary log is an error wrapping ErrBadBinlog.
func scanBinlog(ra io.ReaderAt, size int64, b binlogInfo) (binlogInfo, error) {
	// Events are mostly small (a row event of a few hundred bytes): read
	// through one window rather than two reads and a copy buffer each.
	r := &window{r: ra, size: size, buf: make([]byte, max(1, min(scanWindow, size-b.End)))}
	if b.End == 0 {
		if size < int64(len(binlogMagic)) {
			b.Truncated = size > 0
			return b, nil
		}
		magic := make([]byte, len(binlogMagic))
		if _, err := r.ReadAt(magic, 0); err != nil {
			return b, fmt.Errorf("cannot read the binary log: %w", err)
		}
		if string(magic) != binlogMagic {
			return b, fmt.Errorf("%w: the file does not start with the binary log magic", ErrBadBinlog)
		}
		b.End = int64(len(binlogMagic))
	}
	b.Truncated = false
	head := make([]byte, eventHeaderLen)
	for b.End < size {
		if b.Mark != 0 && b.Mark == b.End {
			b.Marked = true
		}
		if size-b.End < eventHeaderLen {
			b.Truncated = true
			return b, nil
		}
		if _, err := r.ReadAt(head, b.End); err != nil {
			return b, fmt.Errorf("cannot read the binary log at %d: %w", b.End, err)
		}
		ts := binary.LittleEndian.Uint32(head[0:])
		typ := head[4]
		n := int64(binary.LittleEndian.Uint32(head[9:]))
		endPos := int64(binary.LittleEndian.Uint32(head[13:]))
		if n < eventHeaderLen || n > maxEventSize {
			return b, fmt.Errorf("%w: event at %d has impossible size %d", ErrBadBinlog, b.End, n)
		}
		if endPos != b.End+n && !(b.End+n > 1<<32-1) {
			return b, fmt.Errorf("%w: event at %d says it ends at %d, not %d", ErrBadBinlog, b.End, endPos, b.End+n)
		}
		if size-b.End < n {
			b.Truncated = true
			return b, nil
		}
		if b.Events == 0 && typ != evFormatDesc {
			return b, fmt.Errorf("%w: the first event is of type %d, not a format description", ErrBadBinlog, typ)
		}
		var body []byte
		if typ == evFormatDesc || typ == evRotate {
			if n > maxSmallEvent {
				return b, fmt.Errorf("%w: event of type %d at %d is %d bytes", ErrBadBinlog, typ, b.End, n)
			}
			body = make([]byte, n-eventHeaderLen)
			if _, err := r.ReadAt(body, b.End+eventHeaderLen); err != nil {
				return b, fmt.Errorf("cannot read the binary log at %d: %w", b.End, err)
			}
			if typ == evFormatDesc {
				if len(body) < formatDescFixed+checksumLen+1 {
					return b, fmt.Errorf("%w: format description event too short", ErrBadBinlog)
				}
				b.checksum = body[len(body)-checksumLen-1] == checksumCRC32
			}
		}
		if b.checksum {
			if err := checkEventCRC(r, b.End, n); err != nil {
				return b, err
			}
		}
		b.Next, b.Stopped = "", typ == evStop
		if typ == evRotate {
			name := body[min(8, len(body)):]
			if b.checksum {
				name = name[:max(0, len(name)-checksumLen)]
			}
			if !binlogNamePattern.Match(name) {
				return b, fmt.Errorf("%w: rotate event at %d names %q", ErrBadBinlog, b.End, name)
			}
			b.Next = string(name)
		}
		t := time.Unix(int64(ts), 0).UTC()
		if b.Events == 0 {
			b.First = t
		}
		b.Last = t
		b.Events++
		b.End += n
	}
	b.Marked = b.Marked || (b.Mark != 0 && b.Mark == b.End)
	return b, nil
}

// checkEventCRC checks the CRC-32 that ends the n-byte event at off.
func checkEventCRC(r *window, off, n int64) error {
	var sum uint32
	for at, end := off, off+n-checksumLen; at < end; {
		p, err := r.slice(at, end-at)
		if err != nil {
			return fmt.Errorf("cannot read the binary log at %d: %w", off, err)
		}
		sum = crc32.Update(sum, crc32.IEEETable, p)
		at += int64(len(p))
	}
	var want [checksumLen]byte
	if _, err := r.ReadAt(want[:], off+n-checksumLen); err != nil {
		return fmt.Errorf("cannot read the binary log at %d: %w", off, err)
	}
	if binary.LittleEndian.Uint32(want[:]) != sum {
		return fmt.Errorf("%w: event at %d fails its CRC-32", ErrBadBinlog, off)
	}
	return nil
}

// scanWindow is the size of the window a scan reads a file through (a
// variable for the tests).
var scanWindow int64 = 256 << 10

// window reads the first size bytes of r through one buffer: the
// sequential reads of a scan cost a read of the file per window, not per
// event, and no allocation.
type window struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	off  int64 // the file offset of buf[0]
	n    int   // the bytes of buf that hold the file
}

// slice returns at most limit bytes of the file at off (at least one
// when off is below size), valid until the next call.
func (w *window) slice(off, limit int64) ([]byte, error) {
	if off < 0 || off >= w.size {
		return nil, io.ErrUnexpectedEOF
	}
	if off < w.off || off >= w.off+int64(w.n) {
		want := int(min(int64(len(w.buf)), w.size-off))
		n, err := w.r.ReadAt(w.buf[:want], off)
		if n < want {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			w.n = 0
			return nil, err
		}
		w.off, w.n = off, n
	}
	p := w.buf[off-w.off : w.n]
	return p[:min(int64(len(p)), limit)], nil
}

// ReadAt fills p with the file's bytes at off.
func (w *window) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		q, err := w.slice(off+int64(done), int64(len(p)-done))
		if err != nil {
			return done, err
		}
		done += copy(p[done:], q)
	}
	return done, nil
}
