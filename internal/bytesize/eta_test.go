package bytesize

import (
	"testing"
	"time"
)

func TestETA(t *testing.T) {
	cases := []struct {
		done, total int64
		elapsed     time.Duration
		want        time.Duration
		ok          bool
	}{
		{25, 100, time.Minute, 3 * time.Minute, true},
		{42, 100, 42 * time.Minute, 58 * time.Minute, true},
		{1, 3, 1500 * time.Millisecond, 3 * time.Second, true},
		{0, 100, time.Minute, 0, false},
		{100, 100, time.Minute, 0, false},
		{150, 100, time.Minute, 0, false},
		{10, 0, time.Minute, 0, false},
		{10, 100, 0, 0, false},
		{1, 1 << 62, 1 << 40, 0, false},
	}
	for _, c := range cases {
		got, ok := ETA(c.done, c.total, c.elapsed)
		if got != c.want || ok != c.ok {
			t.Errorf("ETA(%d, %d, %v) = %v, %v; want %v, %v", c.done, c.total, c.elapsed, got, ok, c.want, c.ok)
		}
	}
}
