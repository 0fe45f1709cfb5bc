package requirer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ScheduleKey is the key, in the manager's peer application databag, of
// the schedule state (ScheduleStates): what the schedule last did per
// application. Only the leader writes it, in the same hook as the jobs it
// requests, so a leader change never requests a slot twice or never.
const ScheduleKey = "schedule-state"

// Schedule is a parsed cron expression: five fields (minute, hour, day of
// month, month, day of week) or a descriptor (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly), in UTC. "@every" and
// time zone prefixes are refused: a slot must be a fixed point in time so
// that every leader computes the same slots.
type Schedule struct {
	// Spec is the expression as given, trimmed.
	Spec  string
	sched cron.Schedule
}

// cronParser reads standard five-field expressions and descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule reads a cron expression (see Schedule).
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.Join(strings.Fields(spec), " ")
	switch {
	case spec == "":
		return Schedule{}, errors.New("empty cron expression")
	case strings.HasPrefix(spec, "@every"):
		return Schedule{}, fmt.Errorf("%q: @every is not supported, use a cron expression such as \"0 */6 * * *\"", clipID(spec))
	case strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ="):
		return Schedule{}, fmt.Errorf("%q: time zones are not supported: schedules are in UTC", clipID(spec))
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("%q is not a cron expression (minute hour day-of-month month day-of-week, or @daily, @hourly, ...): %v", clipID(spec), err)
	}
	sch := Schedule{Spec: spec, sched: s}
	// An expression that never fires (such as 30 February) makes cron's
	// search give up and return the zero time.
	if sch.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return Schedule{}, fmt.Errorf("%q never fires", clipID(spec))
	}
	return sch, nil
}

// Next returns the first slot strictly after t, in UTC; zero when none
// within five years.
func (s Schedule) Next(t time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	return s.sched.Next(t.UTC()).UTC()
}

// ScheduleState is what the schedule of one application last did.
type ScheduleState struct {
	// Spec is the expression the state belongs to; a changed expression
	// starts afresh, without catch-up.
	Spec string `json:"spec"`
	// Last is the latest slot handled (a backup requested for it or
	// skipped), or the time the expression was first seen: slots at or
	// before it never fire.
	Last time.Time `json:"last"`
	// JobID is the job requested for Last, if any.
	JobID string `json:"job-id,omitempty"`
}

// ScheduleStates holds the state of each application's schedule.
type ScheduleStates map[string]ScheduleState

// ParseScheduleStates reads the value stored under ScheduleKey; "" is
// empty. An entry with a bad time is an error: it would fire again.
func ParseScheduleStates(text string) (ScheduleStates, error) {
	out := ScheduleStates{}
	if strings.TrimSpace(text) == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, fmt.Errorf("cannot read the schedule state: %v", err)
	}
	for app, st := range out {
		if app == "" || st.Last.IsZero() {
			return nil, fmt.Errorf("cannot read the schedule state: entry %q has no application or no time", clipID(app))
		}
	}
	return out, nil
}

// Marshal returns the value stored under ScheduleKey; "" when empty. The
// same states give the same bytes.
func (s ScheduleStates) Marshal() string {
	if len(s) == 0 {
		return ""
	}
	clean := make(ScheduleStates, len(s))
	for app, st := range s {
		st.Last = stamp(st.Last)
		clean[app] = st
	}
	b, _ := json.Marshal(clean) // maps marshal with sorted keys
	return string(b)
}

// Apps returns the applications with a state, sorted.
func (s ScheduleStates) Apps() []string {
	out := make([]string, 0, len(s))
	for a := range s {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Slot is the outcome of Due for one application.
type Slot struct {
	// Due is true when a backup should be requested now.
	Due bool
	// At is the slot a due backup is for: the latest slot at or before
	// now. Zero when not due.
	At time.Time
	// Missed counts the earlier slots since the last handled one that are
	// folded into this one (catch-up); at most maxMissedCount.
	Missed int
	// State is the state to store when the outcome is acted on (a backup
	// requested for At, or the slot skipped) or, when not due, to store
	// anyway (a new or changed expression starts here).
	State ScheduleState
}

// maxMissedCount bounds the counting of missed slots.
const maxMissedCount = 10000

// catchUpWindows are the spans Due looks back over to find the latest slot
// at or before now, smallest first: the search costs as many steps as
// slots in the first span holding one.
var catchUpWindows = []time.Duration{time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour}

// Due decides whether s fires at now given its stored state st. A state of
// another expression (or none) starts afresh at now: nothing is due, and
// slots after now fire. When several slots passed since st.Last (the
// manager was down, or no hook ran), one backup is due, for the latest of
// them, and Missed says how many earlier ones it replaces.
func Due(s Schedule, st ScheduleState, now time.Time) Slot {
	now = now.UTC()
	var out Slot
	if st.Spec != s.Spec || st.Last.IsZero() || st.Last.After(now) {
		out.State = ScheduleState{Spec: s.Spec, Last: stamp(now)}
		return out
	}
	first := s.Next(st.Last)
	if first.IsZero() || first.After(now) {
		out.State = st
		return out
	}
	latest := first
	for _, w := range catchUpWindows {
		from := now.Add(-w)
		if from.Before(st.Last) {
			from = st.Last
		}
		t := s.Next(from)
		if t.IsZero() || t.After(now) {
			continue
		}
		for n := s.Next(t); !n.IsZero() && !n.After(now); n = s.Next(n) {
			t = n
		}
		latest = t
		break
	}
	missed := 0
	for t := first; t.Before(latest) && missed < maxMissedCount; t = s.Next(t) {
		missed++
	}
	out.Due, out.At, out.Missed = true, latest, missed
	out.State = ScheduleState{Spec: s.Spec, Last: latest}
	return out
}
