package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// background is a long-running command (an archiver) under the launcher,
// its tree's RSS sampled every 10 ms until it exits.
type background struct {
	name   string
	cmd    *exec.Cmd
	res    string // the launcher's result file
	log    syncBuffer
	exited chan error
	poll   *rssPoller
}

// startBackground starts args under the launcher with env; the test's
// end kills it if it still runs.
func startBackground(b *testing.B, name string, env []string, args ...string) *background {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	g := &background{name: name, res: filepath.Join(b.TempDir(), "background.json"), exited: make(chan error, 1)}
	g.cmd = exec.Command(self, args...)
	g.cmd.Env = append(withoutEnv(env, launchEnv), launchEnv+"="+g.res)
	g.cmd.Stdout, g.cmd.Stderr = &g.log, &g.log
	if err := g.cmd.Start(); err != nil {
		b.Fatalf("cannot start %s: %v", name, err)
	}
	go func() { g.exited <- g.cmd.Wait() }()
	b.Cleanup(func() {
		if g.cmd.ProcessState == nil {
			for _, c := range children(g.cmd.Process.Pid) {
				_ = syscall.Kill(c, syscall.SIGKILL)
			}
			_ = g.cmd.Process.Kill()
			<-g.exited
		}
	})
	g.poll = pollRSS(g.cmd.Process.Pid, 10*time.Millisecond)
	return g
}

// stop sends SIGTERM to the command (not the launcher), waits within
// the given time for its exit, which must be a success, and returns its
// tree's peak RSS (see peakRSS), what the sampling saw (the number of
// samples, the processes of the peak sample) and the launcher's result.
func (g *background) stop(b *testing.B, within time.Duration) (tree, largest int64, peak rssPeak, lr launched) {
	b.Helper()
	for _, c := range children(g.cmd.Process.Pid) {
		_ = syscall.Kill(c, syscall.SIGTERM)
	}
	var err error
	select {
	case err = <-g.exited:
	case <-time.After(within):
		b.Fatalf("%s did not stop within %s of SIGTERM:\n%s", g.name, within, tail(g.log.String(), 20))
	}
	peak = g.poll.Stop()
	if err != nil {
		b.Fatalf("%s: %v\n%s", g.name, err, tail(g.log.String(), 20))
	}
	data, err := os.ReadFile(g.res)
	if err == nil {
		err = json.Unmarshal(data, &lr)
	}
	if err != nil {
		b.Fatalf("cannot read the launcher's result of %s: %v", g.name, err)
	}
	tree, largest = peakRSS(peak, lr)
	return tree, largest, peak, lr
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
