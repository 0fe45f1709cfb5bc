package postgres

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// LSN is a position in the write-ahead log.
type LSN uint64

// ParseLSN reads a position as PostgreSQL writes it, "16/B374D848".
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || len(hi) == 0 || len(hi) > 8 || len(lo) == 0 || len(lo) > 8 {
		return 0, fmt.Errorf("cannot parse WAL position %q: want XXXXXXXX/XXXXXXXX", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cannot parse WAL position %q: not hexadecimal", s)
	}
	return LSN(h<<32 | l), nil
}

// String writes the position as PostgreSQL does.
func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }

// Segment is one WAL segment file: a timeline and a segment number (the
// position divided by the segment size).
type Segment struct {
	Timeline uint32
	No       uint64
}

var segmentName = regexp.MustCompile(`^[0-9A-F]{24}$`)
var historyName = regexp.MustCompile(`^[0-9A-F]{8}\.history$`)

// ParseSegmentName reads a segment file name, "000000010000000A000000FF",
// for WAL segments of segSize bytes.
func ParseSegmentName(name string, segSize int64) (Segment, error) {
	if err := checkSegSize(segSize); err != nil {
		return Segment{}, err
	}
	if !segmentName.MatchString(name) {
		return Segment{}, fmt.Errorf("cannot parse WAL segment name %q: want 24 upper-case hexadecimal digits", name)
	}
	tli, _ := strconv.ParseUint(name[:8], 16, 32)
	log, _ := strconv.ParseUint(name[8:16], 16, 32)
	seg, _ := strconv.ParseUint(name[16:], 16, 32)
	per := segmentsPerLog(segSize)
	if tli == 0 || seg >= per {
		return Segment{}, fmt.Errorf("cannot parse WAL segment name %q: timeline 0 or segment number out of range for %d-byte segments", name, segSize)
	}
	return Segment{Timeline: uint32(tli), No: log*per + seg}, nil
}

// Name returns the segment's file name for segments of segSize bytes.
func (s Segment) Name(segSize int64) string {
	per := segmentsPerLog(segSize)
	return fmt.Sprintf("%08X%08X%08X", s.Timeline, s.No/per, s.No%per)
}

// SegmentOf returns the number of the segment that holds position l.
func SegmentOf(l LSN, segSize int64) uint64 { return uint64(l) / uint64(segSize) }

// HistoryName returns the file name of timeline tli's history file.
func HistoryName(tli uint32) string { return fmt.Sprintf("%08X.history", tli) }

// ParseHistoryName reads a timeline history file's name.
func ParseHistoryName(name string) (uint32, bool) {
	if !historyName.MatchString(name) {
		return 0, false
	}
	t, _ := strconv.ParseUint(name[:8], 16, 32)
	return uint32(t), t > 0
}

func segmentsPerLog(segSize int64) uint64 { return 0x100000000 / uint64(segSize) }

// checkSegSize accepts the segment sizes initdb allows: a power of two
// from 1 MiB to 1 GiB.
func checkSegSize(n int64) error {
	if n < 1<<20 || n > 1<<30 || n&(n-1) != 0 {
		return fmt.Errorf("WAL segment size %d is not a power of two from 1 MiB to 1 GiB", n)
	}
	return nil
}

// Fork is one line of a timeline history file: timeline Parent ended at
// Switch, where its child began.
type Fork struct {
	Parent uint32
	Switch LSN
}

// maxHistory bounds a history file read from the archive.
const maxHistory = 1 << 20

// ParseHistory reads timeline tli's history file: one line per ancestor,
// "parentTLI<TAB>switchpoint<TAB>reason", oldest first, comments (#) and
// blank lines ignored. Parents must increase, each below tli, and switch
// points must not go back.
func ParseHistory(tli uint32, data []byte) ([]Fork, error) {
	if len(data) > maxHistory {
		return nil, fmt.Errorf("cannot read %s: larger than %d bytes", HistoryName(tli), maxHistory)
	}
	var forks []Fork
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), maxHistory)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("cannot read %s line %d: want a parent timeline and a switch point", HistoryName(tli), n)
		}
		parent, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil || parent == 0 || uint32(parent) >= tli {
			return nil, fmt.Errorf("cannot read %s line %d: parent timeline %q is not a number from 1 to %d", HistoryName(tli), n, f[0], tli-1)
		}
		sw, err := ParseLSN(f[1])
		if err != nil {
			return nil, fmt.Errorf("cannot read %s line %d: %w", HistoryName(tli), n, err)
		}
		if k := len(forks); k > 0 && (uint32(parent) <= forks[k-1].Parent || sw < forks[k-1].Switch) {
			return nil, fmt.Errorf("cannot read %s line %d: timelines or switch points out of order", HistoryName(tli), n)
		}
		forks = append(forks, Fork{Parent: uint32(parent), Switch: sw})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", HistoryName(tli), err)
	}
	return forks, nil
}

// Long page header of the first page of every WAL segment
// (XLogLongPageHeaderData): magic, info, timeline, page address, then the
// system identifier, segment size and block size.
const (
	walHeaderSize  = 40
	xlpLongHeader  = 0x0002
	walPageMagicHi = 0xD100 // XLOG_PAGE_MAGIC is 0xD1xx from PostgreSQL 12 to 17
)

// SegmentHeader is what the first page of a segment says of itself.
type SegmentHeader struct {
	Magic    uint16
	Timeline uint32
	PageAddr LSN
	SystemID uint64
	SegSize  uint32
}

// ParseSegmentHeader reads the long page header at the start of a
// segment (little-endian, as on every platform this project runs on).
func ParseSegmentHeader(b []byte) (SegmentHeader, error) {
	if len(b) < walHeaderSize {
		return SegmentHeader{}, fmt.Errorf("shorter than a WAL page header (%d bytes)", len(b))
	}
	le := binary.LittleEndian
	h := SegmentHeader{
		Magic:    le.Uint16(b[0:]),
		Timeline: le.Uint32(b[4:]),
		PageAddr: LSN(le.Uint64(b[8:])),
		SystemID: le.Uint64(b[24:]),
		SegSize:  le.Uint32(b[32:]),
	}
	if h.Magic&0xFF00 != walPageMagicHi || le.Uint16(b[2:])&xlpLongHeader == 0 {
		return h, fmt.Errorf("does not start with a WAL long page header")
	}
	return h, nil
}

// CheckSegment checks that the first bytes of the file archived as
// segment seg (b) are that segment of the cluster systemID: its header
// names the same timeline, position, system identifier and segment size.
func CheckSegment(seg Segment, b []byte, systemID uint64, segSize int64) error {
	h, err := ParseSegmentHeader(b)
	if err != nil {
		return err
	}
	switch {
	case h.SystemID != systemID:
		return fmt.Errorf("belongs to another cluster: system identifier %d, the base backup's is %d", h.SystemID, systemID)
	case int64(h.SegSize) != segSize:
		return fmt.Errorf("its segment size is %d bytes, the base backup's %d", h.SegSize, segSize)
	case h.Timeline > seg.Timeline:
		return fmt.Errorf("its header is of timeline %d, its name of timeline %d", h.Timeline, seg.Timeline)
	case uint64(h.PageAddr) != seg.No*uint64(segSize):
		return fmt.Errorf("its header is of position %s, its name of %s", h.PageAddr, LSN(seg.No*uint64(segSize)))
	}
	return nil
}
