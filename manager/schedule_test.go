package manager

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/jujusim"
)

// history reads the manager's job history from the peer databag.
func (s *sim) history() requirer.History {
	s.t.Helper()
	h, err := requirer.ParseHistory(s.peerData()[requirer.HistoryKey])
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// scheduled returns the backups of app the schedule requested, oldest first.
func (s *sim) scheduled(app string) []requirer.Record {
	s.t.Helper()
	var out []requirer.Record
	for _, r := range s.history().Records {
		if r.Source == requirer.FromSchedule && r.Application == app {
			out = append(out, r)
		}
	}
	return out
}

// tick moves the clock, runs update-status everywhere and settles.
func (s *sim) tick(clock *jujusim.ManualClock, d time.Duration) {
	s.t.Helper()
	clock.Advance(d)
	s.m.UpdateStatus()
	s.settle()
}

// logged counts the log lines of unit prefix holding text.
func (s *sim) logged(prefix, text string) int {
	n := 0
	for _, e := range s.m.Timeline() {
		if e.Kind == "log" && strings.HasPrefix(e.Unit, prefix) && strings.Contains(e.Text, text) {
			n++
		}
	}
	return n
}

// The acceptance of scheduled backups, on a clock the test moves: N due
// times make N backups, each requested within a minute of its time; an
// outage over three due times makes one catch-up backup; a leader change
// at a due time makes one backup, whether the old leader requested it
// before the change or never saw the time come.
func TestScheduledBackups(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 25, 9, 58, 0, 0, time.UTC))
	s := newSimOpts(t, 2, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("manager", map[string]string{"backup-schedule": "0 * * * *"})
	leader := s.m.Leader("manager")
	if got := s.status(leader); !strings.HasPrefix(got, "active: next backup of pg 2026-11-25T10:00Z") {
		t.Errorf("status = %q, want the next due time", got)
	}
	want := 0
	check := func(what string, slot time.Time) {
		t.Helper()
		got := s.scheduled("pg")
		if len(got) != want {
			t.Fatalf("%s: %d scheduled backups, want %d: %+v", what, len(got), want, got)
		}
		last := got[len(got)-1]
		if d := last.RequestedAt.Sub(slot); d < 0 || d >= time.Minute {
			t.Errorf("%s: backup %s requested at %v, want within a minute after %v", what, last.JobID, last.RequestedAt, slot)
		}
		if last.Status != dbbackup.Success || last.Type != dbbackup.Backup || !last.Compression {
			t.Errorf("%s: backup %+v", what, last)
		}
	}

	// Three due times, hooks every 30 minutes: three backups.
	s.tick(clock, 2*time.Minute+20*time.Second) // 10:00:20
	want++
	check("first slot", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	for i, h := range []int{11, 12} {
		s.tick(clock, 30*time.Minute) // hh:30:20, nothing due
		if n := len(s.scheduled("pg")); n != want {
			t.Fatalf("between slots %d: %d backups, want %d", i, n, want)
		}
		s.tick(clock, 30*time.Minute) // hh:00:20
		want++
		check("slot", time.Date(2026, 11, 25, h, 0, 0, 0, time.UTC))
	}

	// Down from 12:00:20 to 15:10:20: 13:00, 14:00 and 15:00 passed.
	s.tick(clock, 3*time.Hour+10*time.Minute)
	want++
	got := s.scheduled("pg")
	if len(got) != want {
		t.Fatalf("after the outage: %d scheduled backups, want %d (one catch-up)", len(got), want)
	}
	if n := s.logged("manager/", "catch-up: 2 earlier slots missed since 2026-11-25T12:00:00Z"); n != 1 {
		t.Errorf("catch-up log lines: %d, want 1", n)
	}
	s.tick(clock, 10*time.Minute) // 15:20:20, still one
	if n := len(s.scheduled("pg")); n != want {
		t.Fatalf("after the catch-up: %d backups, want %d", n, want)
	}

	// 16:00:30: the old leader requests, then the leader changes.
	s.tick(clock, 40*time.Minute+10*time.Second)
	want++
	check("before a leader change", time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC))
	other := otherUnit(s, leader)
	if err := s.m.SetLeader(s.ctx, other); err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.tick(clock, 10*time.Second)
	if n := len(s.scheduled("pg")); n != want {
		t.Fatalf("after the leader change: %d backups, want %d", n, want)
	}

	// 17:00:10: the leader changes before any hook saw the time come.
	clock.Advance(59*time.Minute + 30*time.Second)
	if err := s.m.SetLeader(s.ctx, leader); err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.m.UpdateStatus()
	s.settle()
	want++
	check("leader change at the due time", time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC))

	// list-jobs tells where each job came from; ids are all different.
	res := s.ok(leader, "list-jobs", map[string]any{"format": "json"})
	var jobs []struct {
		ID     string `json:"job-id"`
		Source string `json:"source"`
	}
	if err := json.Unmarshal([]byte(res["jobs"].(string)), &jobs); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, j := range jobs {
		if j.Source != "schedule" || ids[j.ID] {
			t.Errorf("list-jobs row %+v (duplicate: %v)", j, ids[j.ID])
		}
		ids[j.ID] = true
	}
	if len(ids) != want {
		t.Errorf("list-jobs shows %d jobs, want %d", len(ids), want)
	}
	table := s.ok(leader, "list-jobs", nil)["jobs"].(string)
	if !strings.Contains(table, "source") || strings.Count(table, " schedule ") != want {
		t.Errorf("list-jobs table does not show the source of each job:\n%s", table)
	}
	if got := s.status(leader); !strings.HasPrefix(got, "active: next backup of pg 2026-11-25T18:00Z; last backup of pg") {
		t.Errorf("status = %q", got)
	}
	s.noCanary()
}

// otherUnit returns a unit of the manager other than u.
func otherUnit(s *sim, u string) string {
	for _, v := range s.m.Units("manager") {
		if v != u {
			return v
		}
	}
	s.t.Fatalf("no unit of the manager besides %s", u)
	return ""
}

// Per-application schedules, a bad expression blocks with the option's
// name, and a schedule without credentials waits and catches up once.
func TestScheduleConfig(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 25, 1, 50, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addDB("maria", "mysql")
	s.config("manager", map[string]string{"backup-schedule": "pg=0 2 * * *; maria=bad"})
	if got := s.status("manager/0"); !strings.Contains(got, "blocked") || !strings.Contains(got, "backup-schedule: maria:") {
		t.Errorf("status with a bad expression = %q", got)
	}
	s.config("manager", map[string]string{"backup-schedule": "pg=0 2 * * *; *=30 2 * * *"})
	// No credentials at 02:00: the slot waits.
	s.tick(clock, 10*time.Minute+30*time.Second) // 02:00:30
	if n := len(s.scheduled("pg")); n != 0 {
		t.Fatalf("%d backups requested without credentials", n)
	}
	if n := s.logged("manager/0", "scheduled backup of pg for 2026-11-25T02:00:00Z waits: no s3 credentials"); n == 0 {
		t.Errorf("no log line says the slot waits")
	}
	s.addS3("v0", "")
	s.tick(clock, time.Minute) // 02:01:30: pg catches up, maria not due
	if n, m := len(s.scheduled("pg")), len(s.scheduled("maria")); n != 1 || m != 0 {
		t.Fatalf("after the credentials came: pg %d, maria %d scheduled; want 1, 0", n, m)
	}
	s.tick(clock, 29*time.Minute) // 02:30:30
	if n, m := len(s.scheduled("pg")), len(s.scheduled("maria")); n != 1 || m != 1 {
		t.Fatalf("at 02:30: pg %d, maria %d scheduled; want 1, 1", n, m)
	}
	// Emptying the option stops the schedules and clears their state.
	s.config("manager", map[string]string{"backup-schedule": ""})
	s.tick(clock, 24*time.Hour)
	if n, m := len(s.scheduled("pg")), len(s.scheduled("maria")); n != 1 || m != 1 {
		t.Fatalf("after the schedule was removed: pg %d, maria %d; want 1, 1", n, m)
	}
	if st := s.peerData()[requirer.ScheduleKey]; st != "" {
		t.Errorf("schedule state kept after the schedule was removed: %s", st)
	}
}
