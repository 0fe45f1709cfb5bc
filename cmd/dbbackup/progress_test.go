package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The progress line shows the time left at the average rate so far, and
// no ETA once done or while the total is unknown.
func TestProgressLineETA(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "restore", 100<<20)
	p.n = 25 << 20
	p.draw(p.start.Add(time.Minute), false)
	if got := b.String(); !strings.Contains(got, "25.0%") || !strings.Contains(got, ", ETA 3m0s") {
		t.Errorf("progress line = %q, want 25%% and ETA 3m0s", got)
	}
	b.Reset()
	p.draw(p.start.Add(time.Minute), true)
	if got := b.String(); strings.Contains(got, "ETA") {
		t.Errorf("final line = %q, want no ETA", got)
	}
	b.Reset()
	q := newProgress(&b, "backup", 0)
	q.n = 1 << 20
	q.draw(q.start.Add(time.Second), false)
	if got := b.String(); strings.Contains(got, "ETA") || !strings.Contains(got, "backup 1.0 MiB") {
		t.Errorf("line without a total = %q", got)
	}
}
