package manager

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
)

func writeDue(t *testing.T, dir string, at time.Time) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, dueFile), []byte(at.UTC().Format(time.RFC3339)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The ticker fires at the due time, follows the due time the hook writes,
// retries a fire that moved nothing, and exits when the file goes.
func TestRunTicker(t *testing.T) {
	old := tickerRecheck
	tickerRecheck = 300 * time.Millisecond
	t.Cleanup(func() { tickerRecheck = old })
	dir := t.TempDir()
	start := time.Now().Truncate(time.Second).Add(time.Second)
	writeDue(t, dir, start)
	var mu sync.Mutex
	var fires []time.Time
	fire := func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		fires = append(fires, time.Now())
		switch len(fires) {
		case 1: // a hook that requests and writes the next due time
			writeDue(t, dir, start.Add(time.Second))
		case 2: // a failed hook: the due time stays
			return errors.New("juju-exec failed")
		case 3: // the retry: no schedule any more
			os.Remove(filepath.Join(dir, dueFile))
		}
		return nil
	}
	var log bytes.Buffer
	done := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		runTicker(ctx, dir, fire, &log)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("the ticker did not exit; log:\n%s", log.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(fires) != 3 {
		t.Fatalf("%d fires, want 3; log:\n%s", len(fires), log.String())
	}
	if fires[0].Before(start) || fires[0].Sub(start) > 500*time.Millisecond {
		t.Errorf("first fire at %v, due %v", fires[0], start)
	}
	if d := fires[1].Sub(start.Add(time.Second)); d < 0 || d > 500*time.Millisecond {
		t.Errorf("second fire %v after its due time", d)
	}
	if d := fires[2].Sub(fires[1]); d < 250*time.Millisecond || d > time.Second {
		t.Errorf("retry %v after the failed fire, want about %v", d, tickerRecheck)
	}
	if !strings.Contains(log.String(), "juju-exec failed") || !strings.Contains(log.String(), "no due time: exiting") {
		t.Errorf("ticker log:\n%s", log.String())
	}
}

// stopTicker stops a ticker left in dir (a test's cleanup).
func stopTicker(dir string) { tickerDaemon(dir).Stop(5 * time.Second) }

// On the wall clock, with no update-status at all, the ticker brings the
// scheduled backup within a minute of its time through juju-exec.
func TestScheduleTickerOnWallClock(t *testing.T) {
	s := newSim(t, 1)
	dir := filepath.Join(s.m.Dir(), "units", "unit-manager-0", "dbbackup-ticker")
	t.Cleanup(func() { stopTicker(dir) })
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("manager", map[string]string{"backup-schedule": "* * * * *"})
	due, ok := readDue(dir)
	if !ok || due.Second() != 0 || time.Until(due) > time.Minute || !tickerAlive(dir) {
		t.Fatalf("due file %v (%v), ticker alive %v", due, ok, tickerAlive(dir))
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(s.scheduled("pg")) == 0 {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, tickerLog))
			t.Fatalf("no scheduled backup 90 s after the schedule was set; ticker log:\n%s", log)
		}
		time.Sleep(500 * time.Millisecond)
		s.settle()
	}
	r := s.scheduled("pg")[0]
	late := r.RequestedAt.Sub(r.RequestedAt.Truncate(time.Minute))
	t.Logf("scheduled backup %s requested %v after its due time", r.JobID, late)
	if late > 30*time.Second {
		t.Errorf("scheduled backup requested %v after its due time", late)
	}
	if r.RequestedAt.Before(due) {
		t.Errorf("requested at %v, before the due time %v", r.RequestedAt, due)
	}
	s.config("manager", map[string]string{"backup-schedule": ""})
	if _, ok := readDue(dir); ok {
		t.Errorf("the due file stays after the schedule was removed")
	}
}

// On the simulator's manual clock the charm's main (through
// internal/charmenv) hands the hooks the clock's time and keeps the
// ticker off: the test drives the hooks. The leader with a schedule
// shows the next due time of the manual clock, writes no due file and
// starts no ticker.
func TestNoTickerOnManualClock(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 25, 9, 58, 30, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	dir := filepath.Join(s.m.Dir(), "units", "unit-manager-0", "dbbackup-ticker")
	t.Cleanup(func() { stopTicker(dir) })
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("manager", map[string]string{"backup-schedule": "* * * * *"})
	if got := s.status("manager/0"); !strings.HasPrefix(got, "active: next backup of pg 2026-11-25T09:59Z") {
		t.Errorf("status = %q, want the next due time of the manual clock", got)
	}
	if due, ok := readDue(dir); ok || tickerAlive(dir) {
		t.Errorf("on a manual clock: due file %v (%v), ticker alive %v; want neither", due, ok, tickerAlive(dir))
	}
}
