package jujusim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Event is one line of the model's timeline: a hook run, a tool call, a
// databag change, a model operation.
type Event struct {
	// Seq numbers events from 1 in the order they happened.
	Seq int
	// Time is the model clock's time.
	Time time.Time
	// Unit is the unit concerned, or "" for the model.
	Unit string
	// Kind is model, hook, tool, data, output, action or exec.
	Kind string
	// Text says what happened.
	Text string
}

// String formats the event as one timeline line.
func (e Event) String() string {
	unit := e.Unit
	if unit == "" {
		unit = "-"
	}
	return fmt.Sprintf("%4d %s %-12s %-6s %s", e.Seq, e.Time.UTC().Format("15:04:05.000"), unit, e.Kind, e.Text)
}

func (m *Model) record(unitName, kind, format string, args ...any) {
	e := Event{Seq: len(m.timeline) + 1, Time: m.clock.Now(), Unit: unitName, Kind: kind, Text: fmt.Sprintf(format, args...)}
	m.timeline = append(m.timeline, e)
	if m.opts.Log != nil {
		fmt.Fprintln(m.opts.Log, e.String())
	}
}

// Timeline returns every event so far.
func (m *Model) Timeline() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.timeline)
}

// TimelineString returns the timeline as text, one event a line,
// keeping only the kinds named (all when none).
func (m *Model) TimelineString(kinds ...string) string {
	var b strings.Builder
	for _, e := range m.Timeline() {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			b.WriteString(e.String())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Hooks returns the hooks that ran to completion or failure on unitName, in
// order, as "hook" or "hook (failed)".
func (m *Model) Hooks(unitName string) []string {
	var out []string
	for _, e := range m.Timeline() {
		if e.Unit != unitName || e.Kind != "hook" {
			continue
		}
		if h, ok := strings.CutSuffix(e.Text, " done"); ok {
			out = append(out, h)
		} else if h, _, ok := strings.Cut(e.Text, " failed:"); ok {
			out = append(out, h+" (failed)")
		}
	}
	return out
}

var sensitiveKey = regexp.MustCompile(`(?i)secret|password|passwd|token|private|(^|-)key$`)

// masked hides the value of keys that may hold credentials.
func masked(k, v string) string {
	if sensitiveKey.MatchString(k) {
		return "***"
	}
	return v
}

func (m *Model) recordData(unitName string, relID int, owner string, before, after map[string]string) {
	var parts []string
	for _, k := range sortedKeys(after) {
		if old, ok := before[k]; !ok {
			parts = append(parts, fmt.Sprintf("+%s=%s", k, masked(k, after[k])))
		} else if old != after[k] {
			parts = append(parts, fmt.Sprintf("~%s=%s", k, masked(k, after[k])))
		}
	}
	for _, k := range sortedKeys(before) {
		if _, ok := after[k]; !ok {
			parts = append(parts, "-"+k)
		}
	}
	m.record(unitName, "data", "relation %d databag %s: %s", relID, owner, strings.Join(parts, " "))
}
