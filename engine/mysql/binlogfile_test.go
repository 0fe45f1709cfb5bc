package mysql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// binlogBuilder writes a binary log file with CRC-32 checksums.
type binlogBuilder struct{ b bytes.Buffer }

func newBinlog() *binlogBuilder {
	l := &binlogBuilder{}
	l.b.WriteString(binlogMagic)
	fd := make([]byte, formatDescFixed+1)
	binary.LittleEndian.PutUint16(fd, 4)
	copy(fd[2:], "10.11.19-MariaDB")
	fd[formatDescFixed-1] = eventHeaderLen
	fd = append(fd, checksumCRC32)
	return l.event(1700000000, evFormatDesc, fd)
}

// event appends an event of type typ with body (the CRC-32 is added).
func (l *binlogBuilder) event(ts uint32, typ byte, body []byte) *binlogBuilder {
	n := eventHeaderLen + len(body) + checksumLen
	h := make([]byte, eventHeaderLen)
	binary.LittleEndian.PutUint32(h, ts)
	h[4] = typ
	binary.LittleEndian.PutUint32(h[5:], 1)
	binary.LittleEndian.PutUint32(h[9:], uint32(n))
	binary.LittleEndian.PutUint32(h[13:], uint32(l.b.Len()+n))
	ev := append(h, body...)
	ev = binary.LittleEndian.AppendUint32(ev, crc32.ChecksumIEEE(ev))
	l.b.Write(ev)
	return l
}

func (l *binlogBuilder) rotate(ts uint32, next string) *binlogBuilder {
	return l.event(ts, evRotate, append(make([]byte, 8), next...))
}

func scanBytes(b []byte, from binlogInfo) (binlogInfo, error) {
	return scanBinlog(bytes.NewReader(b), int64(len(b)), from)
}

func TestScanBinlog(t *testing.T) {
	l := newBinlog().event(1700000001, 2, []byte("INSERT")).event(1700000002, 2, []byte("UPDATE"))
	mid := int64(l.b.Len())
	l.rotate(1700000003, "mariadb-bin.000008")
	file := l.b.Bytes()

	info, err := scanBytes(file, binlogInfo{Mark: mid})
	if err != nil || !info.Complete() || info.Next != "mariadb-bin.000008" || info.End != int64(len(file)) || info.Events != 4 || !info.Marked ||
		!info.First.Equal(time.Unix(1700000000, 0)) || !info.Last.Equal(time.Unix(1700000003, 0)) {
		t.Fatalf("scan = %+v, %v", info, err)
	}
	if info, _ := scanBytes(file, binlogInfo{Mark: mid + 1}); info.Marked {
		t.Errorf("an offset inside an event is taken for a boundary")
	}
	// A file still being written: only whole events count, and a later
	// scan goes on from there.
	part, err := scanBytes(file[:mid+5], binlogInfo{})
	if err != nil || !part.Truncated || part.End != mid || part.Complete() {
		t.Fatalf("scan of a growing file = %+v, %v", part, err)
	}
	if again, err := scanBytes(file, part); err != nil || again.End != int64(len(file)) || again.Next == "" || again.Events != 4 {
		t.Fatalf("scan continued = %+v, %v", again, err)
	}
	for _, tc := range []struct {
		name string
		edit func([]byte)
	}{
		{"magic", func(b []byte) { b[0] = 'x' }},
		{"flipped byte", func(b []byte) { b[mid-6] ^= 1 }},
		{"end position", func(b []byte) { b[int(mid)+13]++ }},
		{"size", func(b []byte) { binary.LittleEndian.PutUint32(b[int(mid)+9:], 3) }},
	} {
		b := bytes.Clone(file)
		tc.edit(b)
		if _, err := scanBytes(b, binlogInfo{}); !errors.Is(err, ErrBadBinlog) {
			t.Errorf("%s: scan = %v, want ErrBadBinlog", tc.name, err)
		}
	}
}

func FuzzScanBinlog(f *testing.F) {
	f.Add(newBinlog().event(5, 2, []byte("x")).rotate(6, "b.000002").b.Bytes())
	f.Add([]byte(binlogMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := scanBytes(data, binlogInfo{})
		if err == nil && (info.End > int64(len(data)) || (info.End < int64(len(data)) && !info.Truncated && info.End != 0)) {
			t.Fatalf("scan of %d bytes = %+v", len(data), info)
		}
	})
}

func TestParseDumpPosition(t *testing.T) {
	head := "-- dbbackup mysql-sql-v1 scope=database\n-- MariaDB dump 10.19\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000012', MASTER_LOG_POS=1149;\n\n--\n"
	p, err := parseDumpPosition([]byte(head))
	if err != nil || p != (engine.BinlogPosition{File: "mariadb-bin.000012", Position: 1149}) {
		t.Fatalf("parseDumpPosition = %+v, %v", p, err)
	}
	for _, bad := range []string{
		"-- no position here\n",
		"-- CHANGE MASTER TO MASTER_LOG_FILE='../etc.000001', MASTER_LOG_POS=4;\n",
		"-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000001', MASTER_LOG_POS=2;\n",
		"-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000001', MASTER_LOG_POS=99999999999999999999;\n",
		"INSERT INTO t VALUES ('\n-- CHANGE MASTER TO MASTER_LOG_FILE=''x.000001'', MASTER_LOG_POS=4;\n",
	} {
		if p, err := parseDumpPosition([]byte(bad)); err == nil {
			t.Errorf("parseDumpPosition(%q) = %+v, want an error", bad, p)
		}
	}
}

func FuzzParseDumpPosition(f *testing.F) {
	f.Add([]byte("-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000012', MASTER_LOG_POS=1149;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := parseDumpPosition(data); err == nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("parsed %+v does not validate: %v", p, err)
			}
		}
	})
}

func TestNextBinlog(t *testing.T) {
	for in, want := range map[string]string{"mariadb-bin.000007": "mariadb-bin.000008", "a.b.999999": "a.b.1000000", "x.0000000099": "x.0000000100"} {
		if got, err := NextBinlog(in); err != nil || got != want {
			t.Errorf("NextBinlog(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"mariadb-bin", "mariadb-bin.01", "../x.000001", ".000001"} {
		if got, err := NextBinlog(bad); err == nil {
			t.Errorf("NextBinlog(%q) = %q, want an error", bad, got)
		}
	}
}

func TestResumePoint(t *testing.T) {
	server := []string{"b.000003", "b.000004", "b.000005"}
	for _, tc := range []struct {
		name              string
		complete, partial []string
		want, err         string
	}{
		{"empty archive starts at the oldest", nil, nil, "b.000003", ""},
		{"after the last complete", []string{"b.000003", "b.000001"}, nil, "b.000004", ""},
		{"a partial file is fetched again", []string{"b.000003"}, []string{"b.000004"}, "b.000004", ""},
		{"a stale partial is ignored", []string{"b.000004"}, []string{"b.000004"}, "b.000005", ""},
		{"purged", []string{"b.000001"}, nil, "", "b.000002 is no longer on the server"},
		{"ahead of the server", []string{"b.000005"}, nil, "", "the server's newest is b.000005"},
		{"another server", []string{"other.000003"}, nil, "", "another server's archive"},
	} {
		got, err := resumePoint(tc.complete, tc.partial, server)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: resumePoint = %q, %v; want an error with %q", tc.name, got, err, tc.err)
			}
			if tc.name == "purged" && !errors.Is(err, ErrPurged) {
				t.Errorf("purged: %v does not wrap ErrPurged", err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: resumePoint = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestChainChecker: a chain is refused when a file is missing, starts
// elsewhere than the backup's file, the position is inside an event, or a
// file without a rotate event is followed by another; it stops at the
// first file that reaches the stop time.
func TestChainChecker(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, l *binlogBuilder) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, l.b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := newBinlog().event(100, 2, []byte("a"))
	pos := uint64(first.b.Len())
	f1 := write("b.000001", first.event(110, 2, []byte("b")).rotate(120, "b.000002"))
	f2 := write("b.000002", newBinlog().event(200, 2, []byte("c")).rotate(210, "b.000003"))
	f3 := write("b.000003", newBinlog().event(300, 2, []byte("d")))
	open := write("b.000009", newBinlog().event(300, 2, []byte("d")))
	start := engine.BinlogPosition{File: "b.000001", Position: pos}
	c, err := CheckBinlogChain([]string{f1, f2, f3}, start, time.Time{})
	if err != nil || len(c.Paths) != 3 || c.Complete || !c.Last.Equal(time.Unix(300, 0)) || c.Reaches {
		t.Fatalf("whole chain = %+v, %v", c, err)
	}
	if c, err := CheckBinlogChain([]string{f1, f2, f3}, start, time.Unix(205, 0)); err != nil || len(c.Paths) != 2 || !c.Reaches {
		t.Fatalf("chain up to 205 = %+v, %v; want the first two files", c, err)
	}
	for _, tc := range []struct {
		name  string
		paths []string
		start engine.BinlogPosition
		want  string
	}{
		{"missing file", []string{f1, f3}, start, "b.000003 where the sequence continues with b.000002"},
		{"other start", []string{f2, f3}, start, "b.000002 where the sequence continues with b.000001"},
		{"position inside an event", []string{f1}, engine.BinlogPosition{File: "b.000001", Position: pos + 1}, "not an event boundary"},
		{"open file followed", []string{f1, f2, f3, open}, start, "b.000003 is followed by b.000009"},
		{"none", nil, start, "no binary log file"},
	} {
		if _, err := CheckBinlogChain(tc.paths, tc.start, time.Time{}); !errors.Is(err, ErrBadBinlog) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBadBinlog and %q", tc.name, err, tc.want)
		}
	}
}

// countingReader counts the reads a scan makes.
type countingReader struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// TestScanBinlogThroughAnyWindow scans a file of events of many sizes,
// some larger than the window, through windows of every awkward size: the
// scan finds the same events, and a flipped byte in a large event is
// caught by its CRC-32, wherever the window's edges fall. With the
// default window, a scan of a thousand small events reads the file a few
// times, not once or more per event.
func TestScanBinlogThroughAnyWindow(t *testing.T) {
	l := newBinlog()
	for i := range 1000 {
		l.event(1700000000+uint32(i), 30, bytes.Repeat([]byte{byte(i)}, 1+(i*37)%300))
	}
	big := int64(l.b.Len()) + eventHeaderLen + 2000
	l.event(1700001000, 30, bytes.Repeat([]byte("row"), 1500))
	l.rotate(1700001001, "mariadb-bin.000002")
	file := l.b.Bytes()

	c := &countingReader{r: bytes.NewReader(file)}
	want, err := scanBinlog(c, int64(len(file)), binlogInfo{})
	if err != nil || !want.Complete() || want.Events != 1003 || want.End != int64(len(file)) {
		t.Fatalf("scan = %+v, %v", want, err)
	}
	if c.reads > 4 {
		t.Errorf("a scan of %d bytes and %d events made %d reads", len(file), want.Events, c.reads)
	}
	defer func(w int64) { scanWindow = w }(scanWindow)
	for _, w := range []int64{1, 3, 4, 7, 19, 23, 64, 1000, 4099} {
		scanWindow = w
		if got, err := scanBytes(file, binlogInfo{}); err != nil || got != want {
			t.Errorf("window %d: scan = %+v, %v; want %+v", w, got, err, want)
		}
		part, err := scanBytes(file[:big], binlogInfo{})
		if err != nil || !part.Truncated {
			t.Fatalf("window %d: scan of a growing file = %+v, %v", w, part, err)
		}
		if got, err := scanBytes(file, part); err != nil || got.End != want.End || got.Events != want.Events || got.Next != want.Next {
			t.Errorf("window %d: scan continued = %+v, %v", w, got, err)
		}
		b := bytes.Clone(file)
		b[big] ^= 1
		if _, err := scanBytes(b, binlogInfo{}); !errors.Is(err, ErrBadBinlog) {
			t.Errorf("window %d: a flipped byte in a large event: scan = %v, want ErrBadBinlog", w, err)
		}
	}
}
