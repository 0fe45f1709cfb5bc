package bench

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// probeEnv makes the test binary a memory probe: "MiB wait-ms hold-ms
// children" starts that many copies of itself (with no children), waits
// wait-ms, touches MiB of memory, keeps it for hold-ms, waits for the
// copies and exits.
const probeEnv = "DBBACKUP_BENCH_PROBE"

func probe(spec string) int {
	f := strings.Fields(spec)
	if len(f) != 4 {
		fmt.Fprintf(os.Stderr, "probe: want \"MiB wait-ms hold-ms children\", got %q\n", spec)
		return 2
	}
	n, err1 := strconv.Atoi(f[0])
	wait, err2 := strconv.Atoi(f[1])
	hold, err3 := strconv.Atoi(f[2])
	kids, err4 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || n < 0 || n > 1024 ||
		wait < 0 || wait > 60000 || hold < 0 || hold > 60000 || kids < 0 || kids > 8 {
		fmt.Fprintf(os.Stderr, "probe: bad spec %q\n", spec)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var cmds []*exec.Cmd
	for range kids {
		c := exec.Command(self)
		c.Env = append(withoutEnv(os.Environ(), probeEnv), fmt.Sprintf("%s=%d %d %d 0", probeEnv, n, wait, hold))
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cmds = append(cmds, c)
	}
	time.Sleep(time.Duration(wait) * time.Millisecond)
	mem := make([]byte, n<<20)
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	time.Sleep(time.Duration(hold) * time.Millisecond)
	runtime.KeepAlive(mem)
	code := 0
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			code = 1
		}
	}
	return code
}

func probeCmd(spec string) *exec.Cmd {
	self, _ := os.Executable()
	c := exec.Command(self)
	c.Env = append(os.Environ(), probeEnv+"="+spec)
	return c
}

// TestPeakRSSUpToExit: a process that touches 40 MiB right before it
// exits must read at least 40 MiB, however short-lived the peak.
func TestPeakRSSUpToExit(t *testing.T) {
	for i := range 5 {
		m := timed(t, "probe", probeCmd("40 100 0 0"))
		if m.rss < 40<<20 || m.largest < 40<<20 {
			t.Fatalf("run %d: peak RSS %.1f MiB (largest process %.1f MiB), want >= 40 MiB", i, mib(m.rss), mib(m.largest))
		}
	}
}

// TestPeakRSSSumsTheTree: three processes holding 20 MiB each at once
// must read at least 60 MiB, not the largest one's 20-odd.
func TestPeakRSSSumsTheTree(t *testing.T) {
	m := timed(t, "probe", probeCmd("20 0 400 2"))
	if m.rss < 60<<20 {
		t.Fatalf("peak RSS %.1f MiB (largest process %.1f MiB), want >= 60 MiB: the sum of three", mib(m.rss), mib(m.largest))
	}
	// The two other probes hold 20 MiB each at the same time as the largest.
	if m.rss < m.largest+40<<20 {
		t.Errorf("peak RSS %.1f MiB, want the largest process's %.1f MiB and two more probes of 20-odd", mib(m.rss), mib(m.largest))
	}
}

// TestTimedFailsOnFailure: a command that fails fails the run, with its
// exit code.
func TestTimedFailsOnFailure(t *testing.T) {
	if _, err := run(exec.Command("sh", "-c", "exit 3")); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("run of a failing command: %v, want exit status 3", err)
	}
	if _, err := run(exec.Command("sh", "-c", "kill -9 $$")); err == nil {
		t.Fatal("run of a killed command succeeded")
	}
	m, err := run(exec.Command("sh", "-c", "sleep 0.2; echo ok"))
	if err != nil || string(m.stdout) != "ok\n" || m.wall < 200*time.Millisecond || m.wall > 10*time.Second {
		t.Fatalf("run: %+v, %v; want stdout ok after 0.2 s", m, err)
	}
}

func TestMet(t *testing.T) {
	for _, c := range []struct {
		x, target float64
		below     bool
		want      bool
	}{
		{1.0, 1.1, true, true},
		{1.1, 1.1, true, true},
		{1.2, 1.1, true, false},
		{2.5, 2.0, false, true},
		{1.5, 2.0, false, false},
		{math.NaN(), 1.1, true, false},
		{math.NaN(), 2.0, false, false},
		{math.Inf(1), 2.0, false, false},
		{0, 1.1, true, false},
		{-1, 1.1, true, false},
	} {
		if got := met(c.x, c.target, c.below); got != c.want {
			t.Errorf("met(%v, %v, %v) = %v, want %v", c.x, c.target, c.below, got, c.want)
		}
	}
}
