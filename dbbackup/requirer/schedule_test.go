package requirer

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustSchedule(t *testing.T, spec string) Schedule {
	t.Helper()
	s, err := ParseSchedule(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseSchedule(t *testing.T) {
	good := []string{"0 2 * * *", " */15  * * * * ", "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "0 3 * * mon-fri"}
	for _, s := range good {
		if _, err := ParseSchedule(s); err != nil {
			t.Errorf("ParseSchedule(%q): %v", s, err)
		}
	}
	bad := map[string]string{
		"":                      "empty",
		"@every 1h":             "@every is not supported",
		"TZ=UTC 0 2 * * *":      "time zones",
		"CRON_TZ=UTC 0 2 * * *": "time zones",
		"0 2 * *":               "not a cron expression",
		"0 0 2 * * *":           "not a cron expression",
		"61 * * * *":            "not a cron expression",
		"0 0 30 2 *":            "never fires",
		"daily":                 "not a cron expression",
	}
	for s, want := range bad {
		_, err := ParseSchedule(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSchedule(%q) error = %v, want containing %q", s, err, want)
		}
	}
}

func TestDue(t *testing.T) {
	hourly := mustSchedule(t, "0 * * * *")
	tests := []struct {
		name       string
		st         ScheduleState
		now        string
		wantDue    bool
		wantAt     string
		wantMissed int
		wantLast   string
	}{
		{name: "first sight starts afresh", now: "2026-11-25T10:30:00Z", wantLast: "2026-11-25T10:30:00Z"},
		{name: "changed spec starts afresh", st: ScheduleState{Spec: "@daily", Last: at("2026-11-20T00:00:00Z")},
			now: "2026-11-25T10:30:00Z", wantLast: "2026-11-25T10:30:00Z"},
		{name: "before the slot", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-25T10:30:00Z")},
			now: "2026-11-25T10:59:59Z", wantLast: "2026-11-25T10:30:00Z"},
		{name: "at the slot", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-25T10:30:00Z")},
			now: "2026-11-25T11:00:00Z", wantDue: true, wantAt: "2026-11-25T11:00:00Z", wantLast: "2026-11-25T11:00:00Z"},
		{name: "a minute late", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-25T10:30:00Z")},
			now: "2026-11-25T11:00:59Z", wantDue: true, wantAt: "2026-11-25T11:00:00Z", wantLast: "2026-11-25T11:00:00Z"},
		{name: "slot already handled", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-25T11:00:00Z")},
			now: "2026-11-25T11:20:00Z", wantLast: "2026-11-25T11:00:00Z"},
		{name: "three slots missed: one catch-up", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-25T10:00:00Z")},
			now: "2026-11-25T13:10:00Z", wantDue: true, wantAt: "2026-11-25T13:00:00Z", wantMissed: 2, wantLast: "2026-11-25T13:00:00Z"},
		{name: "down a year", st: ScheduleState{Spec: "0 * * * *", Last: at("2025-11-25T10:00:00Z")},
			now: "2026-11-25T13:10:00Z", wantDue: true, wantAt: "2026-11-25T13:00:00Z", wantMissed: 365*24 + 2,
			wantLast: "2026-11-25T13:00:00Z"},
		{name: "down three years: count capped", st: ScheduleState{Spec: "0 * * * *", Last: at("2023-11-25T10:00:00Z")},
			now: "2026-11-25T13:10:00Z", wantDue: true, wantAt: "2026-11-25T13:00:00Z", wantMissed: maxMissedCount, wantLast: "2026-11-25T13:00:00Z"},
		{name: "clock went back", st: ScheduleState{Spec: "0 * * * *", Last: at("2026-11-26T10:00:00Z")},
			now: "2026-11-25T13:10:00Z", wantLast: "2026-11-25T13:10:00Z"},
	}
	for _, tt := range tests {
		got := Due(hourly, tt.st, at(tt.now))
		if got.Due != tt.wantDue || got.Missed != tt.wantMissed {
			t.Errorf("%s: Due = %v, missed %d; want %v, %d", tt.name, got.Due, got.Missed, tt.wantDue, tt.wantMissed)
		}
		if tt.wantAt != "" && !got.At.Equal(at(tt.wantAt)) {
			t.Errorf("%s: At = %v, want %s", tt.name, got.At, tt.wantAt)
		}
		if !got.State.Last.Equal(at(tt.wantLast)) || got.State.Spec != hourly.Spec {
			t.Errorf("%s: State = %+v, want last %s", tt.name, got.State, tt.wantLast)
		}
	}
}

// TestDueSimulated walks a clock over three days in irregular steps, as
// hooks come, and checks that every slot is requested exactly once when
// hooks come at least once per slot, and once per gap otherwise.
func TestDueSimulated(t *testing.T) {
	for _, spec := range []string{"0 * * * *", "*/10 * * * *", "0 2 * * *", "30 1,13 * * 1-5"} {
		s := mustSchedule(t, spec)
		start := at("2026-11-23T00:00:10Z")
		st := Due(s, ScheduleState{}, start).State
		step := []time.Duration{13 * time.Second, 47 * time.Second, 5 * time.Minute, 61 * time.Second}
		now := start
		fired := map[time.Time]bool{}
		for i := 0; now.Before(start.Add(72 * time.Hour)); i++ {
			next := now.Add(step[i%len(step)])
			if next.After(start.Add(72 * time.Hour)) {
				break
			}
			now = next
			d := Due(s, st, now)
			if d.Due {
				if fired[d.At] {
					t.Fatalf("%s: slot %v fired twice", spec, d.At)
				}
				if now.Sub(d.At) >= 5*time.Minute+time.Second {
					t.Fatalf("%s: slot %v fired at %v, later than the largest hook gap", spec, d.At, now)
				}
				fired[d.At] = true
			}
			st = d.State
		}
		slots := 0
		for t0 := s.Next(start); !t0.After(now); t0 = s.Next(t0) {
			slots++
		}
		// The slot spacing is at least 10 minutes and hooks come at most
		// 5 minutes apart: every slot fires once.
		if len(fired) != slots {
			t.Errorf("%s: %d slots fired, want %d", spec, len(fired), slots)
		}
	}
}

func TestScheduleStatesCodec(t *testing.T) {
	s := ScheduleStates{"pg": {Spec: "@daily", Last: at("2026-11-25T00:00:00Z").Add(300 * time.Millisecond), JobID: "job-20261125T000000Z-0a1b2c3d"},
		"mysql": {Spec: "0 * * * *", Last: at("2026-11-25T10:00:00Z")}}
	text := s.Marshal()
	got, err := ParseScheduleStates(text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Marshal() != text || len(got) != 2 || !got["pg"].Last.Equal(at("2026-11-25T00:00:00Z")) {
		t.Errorf("round trip: %s -> %+v", text, got)
	}
	if (ScheduleStates{}).Marshal() != "" {
		t.Error("empty states do not marshal to empty text")
	}
	for _, bad := range []string{"[]", "{", `{"pg":{"spec":"@daily"}}`, `{"":{"spec":"x","last":"2026-11-25T00:00:00Z"}}`, `{"pg":{"last":"yesterday"}}`} {
		if _, err := ParseScheduleStates(bad); err == nil || !strings.Contains(err.Error(), "schedule state") {
			t.Errorf("ParseScheduleStates(%q) error = %v", bad, err)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "@daily", "*/5 * * * 1-5", "0 0 30 2 *", "@every 1s", "1-59/0 * * * *"} {
		f.Add(s)
	}
	start := at("2026-11-25T10:00:00Z")
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSchedule(spec)
		if err != nil {
			return
		}
		d := Due(s, ScheduleState{Spec: s.Spec, Last: start}, start.Add(400*24*time.Hour))
		if d.Due && (d.At.After(start.Add(400*24*time.Hour)) || !d.At.After(start)) {
			t.Fatalf("%q: slot %v out of range", spec, d.At)
		}
	})
}

func FuzzParseScheduleStates(f *testing.F) {
	f.Add(`{"pg":{"spec":"@daily","last":"2026-11-25T00:00:00Z"}}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseScheduleStates(text)
		if err != nil {
			return
		}
		back, err := ParseScheduleStates(s.Marshal())
		if err != nil || back.Marshal() != s.Marshal() {
			t.Fatalf("round trip of %q: %v", text, err)
		}
	})
}
