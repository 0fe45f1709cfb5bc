package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// rssPoller samples, every interval, the peak RSS (VmHWM) of a process and
// of each of its descendants, and keeps the largest: the peak RSS of the
// biggest process of the tree. wait4's ru_maxrss cannot serve: a child
// started with vfork (as Go starts them) inherits the parent's high-water
// mark at exec, so it reports the test binary's own RSS when that is larger.
type rssPoller struct {
	stop chan struct{}
	done chan int64
}

func pollRSS(pid int, interval time.Duration) *rssPoller {
	p := &rssPoller{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			peak = max(peak, treeHWM(pid))
			select {
			case <-p.stop:
				p.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// Stop ends the sampling and returns the peak in bytes.
func (p *rssPoller) Stop() int64 {
	close(p.stop)
	return <-p.done
}

// treeHWM returns the largest VmHWM, in bytes, of pid and its descendants.
func treeHWM(pid int) int64 {
	peak := hwm(pid)
	for _, c := range children(pid) {
		peak = max(peak, treeHWM(c))
	}
	return peak
}

func hwm(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func children(pid int) []int {
	p := strconv.Itoa(pid)
	tasks, _ := os.ReadDir("/proc/" + p + "/task")
	var out []int
	for _, t := range tasks {
		data, err := os.ReadFile("/proc/" + p + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
