package bench

import (
	"fmt"
	"os"
	"sort"
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
	// at is the sample of the largest sum: each process's name and VmRSS
	// then, largest first (where the tree's peak went).
	at []procRSS
}

// procRSS is one process of a sample.
type procRSS struct {
	name string
	rss  int64
}

// String is "dbbackup 24.1 + pg_receivewal 8.0 MiB".
func (p rssPeak) String() string {
	if len(p.at) == 0 {
		return "no process sampled"
	}
	var parts []string
	for _, r := range p.at {
		parts = append(parts, fmt.Sprintf("%s %.1f", r.name, float64(r.rss)/(1<<20)))
	}
	return strings.Join(parts, " + ") + " MiB"
}

var rssSkip = map[string]bool{"runuser": true}

func pollRSS(pid int, interval time.Duration) *rssPoller {
	p := &rssPoller{stop: make(chan struct{}), done: make(chan rssPeak, 1)}
	go func() {
		var peak rssPeak
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			var procs []procRSS
			sum, largest := treeRSS(pid, false, &procs)
			if sum > peak.sum {
				peak.sum = sum
				sort.SliceStable(procs, func(i, j int) bool { return procs[i].rss > procs[j].rss })
				peak.at = procs
			}
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
// pid's descendants, and of pid itself when self is true; each process
// counted is appended to procs when it is not nil.
func treeRSS(pid int, self bool, procs *[]procRSS) (sum, largest int64) {
	if self {
		if name := comm(pid); !rssSkip[name] {
			rss, hwm := memStatus(pid)
			sum, largest = rss, hwm
			if procs != nil && rss > 0 {
				*procs = append(*procs, procRSS{name, rss})
			}
		}
	}
	for _, c := range children(pid) {
		s, l := treeRSS(c, true, procs)
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
