package postgres_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
)

const mib16 = 16 << 20

func TestLSNAndSegmentNames(t *testing.T) {
	l, err := postgres.ParseLSN("16/B374D848")
	if err != nil || l.String() != "16/B374D848" || uint64(l) != 0x16B374D848 {
		t.Fatalf("ParseLSN: %v %v", l, err)
	}
	for _, bad := range []string{"", "1", "x/1", "1/", "123456789/0", "0/123456789"} {
		if _, err := postgres.ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
	seg, err := postgres.ParseSegmentName("000000020000000A000000FF", mib16)
	if err != nil || seg.Timeline != 2 || seg.No != 0xA*256+0xFF {
		t.Fatalf("ParseSegmentName: %+v %v", seg, err)
	}
	if got := seg.Name(mib16); got != "000000020000000A000000FF" {
		t.Errorf("Name = %s", got)
	}
	for _, bad := range []string{"00000000000000000000000A", "000000010000000000000100", "00000001000000000000000a", "0000000100000000000000"} {
		if _, err := postgres.ParseSegmentName(bad, mib16); err == nil {
			t.Errorf("ParseSegmentName(%q) accepted", bad)
		}
	}
	if _, err := postgres.ParseSegmentName("000000010000000000000001", 3<<20); err == nil {
		t.Errorf("a segment size that is no power of two was accepted")
	}
}

func TestParseHistory(t *testing.T) {
	forks, err := postgres.ParseHistory(3, []byte("1\t0/5000198\tno recovery target specified\n\n2\t0/7000000\tbefore 2026-12-04\n"))
	if err != nil || len(forks) != 2 || forks[1].Parent != 2 || forks[1].Switch.String() != "0/7000000" {
		t.Fatalf("ParseHistory: %+v %v", forks, err)
	}
	for _, bad := range []string{"3\t0/1\tself\n", "0\t0/1\tx\n", "1\tnope\tx\n", "2\t0/5\tx\n1\t0/6\tx\n", "1\n"} {
		if _, err := postgres.ParseHistory(3, []byte(bad)); err == nil {
			t.Errorf("ParseHistory(%q) accepted", bad)
		}
	}
}

func segHeader(tli uint32, no uint64, sysid uint64) []byte {
	b := make([]byte, 40)
	le := binary.LittleEndian
	le.PutUint16(b[0:], 0xD110)
	le.PutUint16(b[2:], 0x0002)
	le.PutUint32(b[4:], tli)
	le.PutUint64(b[8:], no*mib16)
	le.PutUint64(b[24:], sysid)
	le.PutUint32(b[32:], mib16)
	return b
}

func TestCheckSegment(t *testing.T) {
	seg := postgres.Segment{Timeline: 2, No: 7}
	if err := postgres.CheckSegment(seg, segHeader(2, 7, 42), 42, mib16); err != nil {
		t.Fatalf("a good header: %v", err)
	}
	// The first segment of a timeline holds pages of its parent's.
	if err := postgres.CheckSegment(seg, segHeader(1, 7, 42), 42, mib16); err != nil {
		t.Fatalf("a header of the parent timeline: %v", err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"foreign": {segHeader(2, 7, 43), "another cluster"},
		"moved":   {segHeader(2, 8, 42), "position"},
		"future":  {segHeader(3, 7, 42), "timeline 3"},
		"garbage": {make([]byte, 40), "long page header"},
		"short":   {[]byte{1, 2}, "shorter"},
		"segsize": {func() []byte { b := segHeader(2, 7, 42); b[34] = 0; b[35] = 2; return b }(), "segment size"},
	} {
		err := postgres.CheckSegment(seg, tc.b, 42, mib16)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestPlanRecovery(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	base := engine.Physical{SystemID: "42", Timeline: 1, StartLSN: "0/2000028", EndLSN: "0/2000100",
		StartTime: at(0), EndTime: at(1), WALSegmentSize: mib16}
	f := func(name string, s int) postgres.WALFile { return postgres.WALFile{Name: name, ModTime: at(s)} }
	p := func(name string, s int) postgres.WALFile {
		return postgres.WALFile{Name: name, Partial: true, ModTime: at(s)}
	}
	names := func(fs []postgres.WALFile) string {
		var out []string
		for _, f := range fs {
			n := f.Name
			if f.Partial {
				n += ".partial"
			}
			out = append(out, n)
		}
		return strings.Join(out, " ")
	}
	linear := []postgres.WALFile{
		f("000000010000000000000002", 10), f("000000010000000000000003", 20), f("000000010000000000000004", 30),
		p("000000010000000000000005", 40), p("000000010000000000000004", 25), // a stale partial beside its segment
		f("000000010000000000000001", 2), // before the base: ignored
	}
	tests := []struct {
		name    string
		files   []postgres.WALFile
		hist    map[uint32][]postgres.Fork
		target  time.Time
		want    string
		tli     uint32
		end     time.Time
		wantErr string
	}{
		{name: "to the end", files: linear, want: "000000010000000000000002 000000010000000000000003 000000010000000000000004 000000010000000000000005.partial", tli: 1, end: at(40)},
		{name: "to a time", files: linear, target: at(15), want: "000000010000000000000002 000000010000000000000003", tli: 1, end: at(40)},
		{name: "before the base", files: linear, target: at(0), wantErr: "before the base backup was consistent"},
		{name: "after the archive", files: linear, target: at(41), wantErr: "after the end of the archive"},
		{name: "gap", files: []postgres.WALFile{f("000000010000000000000002", 10), f("000000010000000000000004", 30)},
			wantErr: "segment 000000010000000000000003 (later"},
		{name: "partial then more", files: []postgres.WALFile{p("000000010000000000000003", 10), f("000000010000000000000004", 30)},
			wantErr: "000000010000000000000003 is archived only in part"},
		{name: "base wal only", files: nil, want: "", tli: 1, end: at(1)},
		{name: "second timeline",
			files: append(append([]postgres.WALFile(nil), linear...), f("00000002.history", 31),
				f("000000020000000000000004", 35), p("000000020000000000000005", 50)),
			hist: map[uint32][]postgres.Fork{2: {{Parent: 1, Switch: 0x4000100}}},
			want: "000000010000000000000002 000000010000000000000003 000000020000000000000004 000000020000000000000005.partial", tli: 2, end: at(50)},
		{name: "timeline forked before the base",
			files: append(append([]postgres.WALFile(nil), linear...), f("00000002.history", 31), f("000000020000000000000002", 35)),
			hist:  map[uint32][]postgres.Fork{2: {{Parent: 1, Switch: 0x1000000}}},
			want:  "000000010000000000000002 000000010000000000000003 000000010000000000000004 000000010000000000000005.partial", tli: 1, end: at(40)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := postgres.PlanRecovery(base, tc.files, tc.hist, tc.target)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "segment") && !errors.Is(err, postgres.ErrMissingWAL) {
					t.Errorf("%v does not wrap ErrMissingWAL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(plan.Segments); got != tc.want {
				t.Errorf("segments\n got %s\nwant %s", got, tc.want)
			}
			if plan.Timeline != tc.tli || !plan.End.Equal(tc.end) {
				t.Errorf("timeline %d end %s, want %d %s", plan.Timeline, plan.End, tc.tli, tc.end)
			}
		})
	}
}
