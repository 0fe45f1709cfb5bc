package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// rssPoller samples, every interval until Stop, the resident memory of
// every descendant of a process (the launcher, which is not counted) and
// keeps the largest sum over one sample: the peak RSS of the command's
// whole tree (dbbackup and pg_dump together; pgBackRest and its workers
// together). It also keeps each process's VmHWM, whose largest value is a
// floor for the tree's peak that the sampling interval cannot miss while the
// process lives. Processes named in skip (runuser, a mere wrapper) are not
// counted, but their children are.
type rssPoller struct {
	stop chan struct{}
	done chan rssPeak
}

// rssPeak is what a poller saw.
type rssPeak struct {
	sum     int64 // bytes: the largest sum of VmRSS over the tree in one sample
	largest int64 // bytes: the largest VmHWM of one process of the tree
	samples int
}

var rssSkip = map[string]bool{"runuser": true}

func pollRSS(pid int, interval time.Duration) *rssPoller {
	p := &rssPoller{stop: make(chan struct{}), done: make(chan rssPeak, 1)}
	go func() {
		var peak rssPeak
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			sum, largest := treeRSS(pid, false)
			peak.sum = max(peak.sum, sum)
			peak.largest = max(peak.largest, largest)
			peak.samples++
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

// Stop ends the sampling and returns what it saw.
func (p *rssPoller) Stop() rssPeak {
	close(p.stop)
	return <-p.done
}

// treeRSS returns the sum of VmRSS and the largest VmHWM, in bytes, of
// pid's descendants, and of pid itself when self is true.
func treeRSS(pid int, self bool) (sum, largest int64) {
	if self && !rssSkip[comm(pid)] {
		rss, hwm := memStatus(pid)
		sum, largest = rss, hwm
	}
	for _, c := range children(pid) {
		s, l := treeRSS(c, true)
		sum += s
		largest = max(largest, l)
	}
	return sum, largest
}

// memStatus reads VmRSS and VmHWM of pid in bytes; zeros when it is gone
// (or a zombie, whose memory is already released).
func memStatus(pid int) (rss, hwm int64) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = kB(rest)
		} else if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = kB(rest)
		}
	}
	return rss, hwm
}

func kB(field string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(field), " kB"), 10, 64)
	return n * 1024
}

func comm(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(data))
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
