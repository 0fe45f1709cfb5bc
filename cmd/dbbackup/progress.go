package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/internal/bytesize"
)

// progress reports bytes moved: a redrawn bar (bytes, rate, ETA when the
// total is known) on a terminal, a plain line every interval otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	verb     string
	total    int64
	start    time.Time
	last     time.Time
	interval time.Duration
	n        int64
}

func newProgress(w io.Writer, verb string, total int64) *progress {
	p := &progress{w: w, verb: verb, total: total, start: time.Now(), interval: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.interval = true, 200*time.Millisecond
		}
	}
	p.last = p.start
	return p
}

// update records the bytes done so far; it is cheap between redraws.
func (p *progress) update(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	if now := time.Now(); now.Sub(p.last) >= p.interval {
		p.last = now
		p.draw(now, false)
	}
}

// setTotal sets the size the bytes done are out of (0: unknown).
func (p *progress) setTotal(total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

// done prints the final line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(time.Now(), true)
}

func (p *progress) draw(now time.Time, final bool) {
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.n) / secs
	}
	line := fmt.Sprintf("%s %s at %s/s", p.verb, humanBytes(p.n), humanBytes(int64(rate)))
	if p.total > 0 {
		pct := min(100*float64(p.n)/float64(p.total), 100)
		line = fmt.Sprintf("%s %5.1f%% %s of %s at %s/s", p.verb, pct, humanBytes(p.n), humanBytes(p.total), humanBytes(int64(rate)))
		if eta, ok := bytesize.ETA(p.n, p.total, now.Sub(p.start)); ok && !final {
			line += fmt.Sprintf(", ETA %s", eta)
		}
	}
	if final {
		line += fmt.Sprintf(", %.1fs", secs)
	}
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}
