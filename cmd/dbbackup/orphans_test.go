package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// child is a process our test found running, with its start time, which
// tells it from a later process given the same pid.
type child struct {
	pid   int
	name  string
	start string
}

// childrenNamed returns the live children of pid whose command name is
// one of names, read from /proc (by parent pid, never by name across the
// machine: other tests run at the same time).
func childrenNamed(pid int, names ...string) []child {
	p := strconv.Itoa(pid)
	tasks, _ := os.ReadDir("/proc/" + p + "/task")
	var out []child
	for _, task := range tasks {
		data, err := os.ReadFile("/proc/" + p + "/task/" + task.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			for _, n := range names {
				if strings.TrimSpace(string(comm)) == n {
					if start := startTime(c); start != "" {
						out = append(out, child{pid: c, name: n, start: start})
					}
				}
			}
		}
	}
	return out
}

// waitChild waits, 30 s at most, until pid has a child named one of
// names, and returns them.
func waitChild(t *testing.T, pid int, names ...string) []child {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c := childrenNamed(pid, names...); len(c) > 0 {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d started no %v in 30 s", pid, names)
		}
	}
}

// mustDie fails unless every one of cs has ended within 10 s (a zombie
// counts as ended); it kills the survivors, so a failure leaves nothing
// running.
func mustDie(t *testing.T, what string, cs []child) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range cs {
		for startTime(c.pid) == c.start {
			if time.Now().After(deadline) {
				for _, c := range cs {
					if startTime(c.pid) == c.start {
						_ = syscall.Kill(c.pid, syscall.SIGKILL)
					}
				}
				t.Fatalf("%s: %s (pid %d) still runs 10 s after its parent was killed", what, c.name, c.pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// startTime returns the start time of the live process pid (field 22 of
// its stat); "" when it is gone or a zombie.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces: count from its ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}
