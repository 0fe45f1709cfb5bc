package metrics

import (
	"errors"
	"testing"
	"time"
)

func TestThreshold(t *testing.T) {
	h := time.Hour
	cases := []struct {
		configured string
		interval   time.Duration
		want       time.Duration
		bad        bool
	}{
		{"", 24 * h, 36 * h, false},
		{"", h, 2 * h, false},
		{"", 15 * time.Minute, 75 * time.Minute, false},
		{"", 7 * 24 * h, 252 * h, false},
		{"", 0, 0, false},
		{"", -h, 0, false},
		{"", 1000 * 24 * h, MaxThreshold, false},
		{"", 300 * 24 * h, MaxThreshold, false},
		{"30h", 24 * h, 30 * h, false},
		{"90m", 0, 90 * time.Minute, false},
		{"1m", 0, time.Minute, false},
		{"9600h", 0, MaxThreshold, false},
		{"59s", 0, 0, true},
		{"9601h", 0, 0, true},
		{"-1h", 24 * h, 0, true},
		{"0", 24 * h, 0, true},
		{"36", 24 * h, 0, true},
		{"1d", 24 * h, 0, true},
		{"36h ", 0, 0, true},
		{"100000000000000000000h", 0, 0, true},
		{"1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h", 0, 0, true},
	}
	for _, tc := range cases {
		got, err := Threshold(tc.configured, tc.interval)
		if tc.bad {
			if !errors.Is(err, ErrInvalidThreshold) {
				t.Errorf("Threshold(%q, %v) = %v, %v; want ErrInvalidThreshold", tc.configured, tc.interval, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Threshold(%q, %v) = %v, %v; want %v", tc.configured, tc.interval, got, err, tc.want)
		}
	}
}

// FuzzThreshold: a threshold is refused or within the bounds (zero only
// when nothing is configured and there is no schedule), and a derived one
// is never shorter than the interval it comes from.
func FuzzThreshold(f *testing.F) {
	f.Add("", int64(24*time.Hour))
	f.Add("36h", int64(0))
	f.Add("1m", int64(time.Second))
	f.Fuzz(func(t *testing.T, configured string, interval int64) {
		iv := time.Duration(interval)
		got, err := Threshold(configured, iv)
		if err != nil {
			if configured == "" || !errors.Is(err, ErrInvalidThreshold) {
				t.Fatalf("Threshold(%q, %v): %v", configured, iv, err)
			}
			return
		}
		if got == 0 {
			if configured != "" || iv > 0 {
				t.Fatalf("Threshold(%q, %v) = 0", configured, iv)
			}
			return
		}
		if got < MinThreshold || got > MaxThreshold {
			t.Fatalf("Threshold(%q, %v) = %v, out of bounds", configured, iv, got)
		}
		if configured == "" && got < min(iv, MaxThreshold) {
			t.Fatalf("Threshold(%q, %v) = %v, shorter than the interval", configured, iv, got)
		}
	})
}
