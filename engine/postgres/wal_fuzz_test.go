package postgres_test

import (
	"testing"

	"github.com/dbbackup/dbbackup/engine/postgres"
)

func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/2000028", "16/B374D848", "FFFFFFFF/FFFFFFFF", "1/", "/1", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := postgres.ParseLSN(s)
		if err != nil {
			return
		}
		back, err := postgres.ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("%q -> %s -> %v %v", s, l, back, err)
		}
	})
}

func FuzzParseSegmentName(f *testing.F) {
	for _, s := range []string{"000000010000000000000003", "000000020000000A000000FF", "00000001000000000000010", "0000000100000000000000FF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg, err := postgres.ParseSegmentName(s, 16<<20)
		if err != nil {
			return
		}
		if seg.Name(16<<20) != s || seg.Timeline == 0 {
			t.Fatalf("%q -> %+v -> %s", s, seg, seg.Name(16<<20))
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	for _, s := range []string{"1\t0/5000198\tno recovery target specified\n", "1\t0/5\tx\n2\t0/7\ty\n", "# c\n\n", "2\t0/1\n1\t0/2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		forks, err := postgres.ParseHistory(5, []byte(s))
		if err != nil {
			return
		}
		for i, fk := range forks {
			if fk.Parent == 0 || fk.Parent >= 5 || (i > 0 && (fk.Parent <= forks[i-1].Parent || fk.Switch < forks[i-1].Switch)) {
				t.Fatalf("accepted %q as %+v", s, forks)
			}
		}
	})
}

func FuzzParseSegmentHeader(f *testing.F) {
	f.Add(segHeader(1, 3, 42))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = postgres.CheckSegment(postgres.Segment{Timeline: 1, No: 3}, b, 42, 16<<20)
	})
}
