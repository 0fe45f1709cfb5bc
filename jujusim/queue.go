package jujusim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrHookFailed is wrapped by Settle's error when a unit is left in error.
var ErrHookFailed = errors.New("hook failed")

// ErrNotSettled is returned by Settle when hooks are still pending after
// its bound.
var ErrNotSettled = errors.New("model did not settle")

type event struct {
	kind       string // install, relation-changed, secret-changed, ...
	endpoint   string // relation endpoint of the unit's side
	relID      int
	remoteUnit string
	remoteApp  string
	departing  string
	secretURI  string
	secretRev  int
	seq        int // order of enqueueing, across the model
}

func (e *event) hook() string {
	if strings.HasPrefix(e.kind, "relation-") {
		return e.endpoint + "-" + e.kind
	}
	return e.kind
}

func (e *event) relational() bool { return strings.HasPrefix(e.kind, "relation-") }

func (e *event) same(o *event) bool {
	return e.kind == o.kind && e.relID == o.relID && e.remoteUnit == o.remoteUnit &&
		e.remoteApp == o.remoteApp && e.departing == o.departing && e.secretURI == o.secretURI
}

// enqueue queues ev on u, unless the same event is already pending with
// nothing about its relation queued after it (Juju coalesces those too).
func (m *Model) enqueue(u *unit, ev *event) {
	if ev.relational() {
		if r, ok := m.relations[ev.relID]; ok {
			ev.endpoint = r.endOf(u.app.name).ep.Name
		}
	}
	for i := len(u.queue) - 1; i >= 0; i-- {
		q := u.queue[i]
		if q == u.running || (i == 0 && u.failed) {
			break
		}
		if q.same(ev) {
			return
		}
		if ev.relational() && q.relational() && q.relID == ev.relID && q.kind != "relation-changed" {
			break
		}
		if !ev.relational() && q.kind == ev.kind {
			break
		}
	}
	m.seq++
	ev.seq = m.seq
	u.queue = append(u.queue, ev)
}

// backoff is Juju's retry delay after the n-th failure of a hook.
func backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// next returns the unit whose pending hook was queued first among those
// ready to run, or nil.
func (m *Model) next() *unit {
	now := m.clock.Now()
	var best *unit
	for _, u := range m.units {
		if len(u.queue) == 0 || u.running != nil || (u.failed && now.Before(u.retryAt)) {
			continue
		}
		if best == nil || u.queue[0].seq < best.queue[0].seq {
			best = u
		}
	}
	return best
}

// Step runs the next pending hook, waiting for the unit if an action or
// juju-exec is running on it. It reports whether a hook ran; the error is
// about the harness, not the hook (a failed hook puts its unit in error).
func (m *Model) Step(ctx context.Context) (bool, error) {
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	m.mu.Lock()
	u := m.next()
	m.mu.Unlock()
	if u == nil {
		return false, nil
	}
	if err := u.lock(ctx); err != nil {
		return false, err
	}
	defer u.unlock()
	m.mu.Lock()
	if len(u.queue) == 0 {
		m.mu.Unlock()
		return false, nil
	}
	ev := u.queue[0]
	u.running = ev
	m.mu.Unlock()
	ok, err := m.runHook(ctx, u, ev)
	m.mu.Lock()
	defer m.mu.Unlock()
	u.running = nil
	if err != nil {
		return true, err
	}
	if ok {
		u.queue = u.queue[1:]
		u.failed, u.retries = false, 0
		m.afterHook(u, ev)
		return true, nil
	}
	u.failed = true
	u.retries++
	u.retryAt = m.clock.Now().Add(backoff(u.retries))
	m.record(u.name, "model", "%s in error; retry of %s in %s", u.name, ev.hook(), backoff(u.retries))
	return true, nil
}

// afterHook finishes what a hook ends: a removed unit goes, a broken
// relation goes once every side has run relation-broken.
func (m *Model) afterHook(u *unit, ev *event) {
	switch ev.kind {
	case "install":
		u.installed = true
	case "start":
		if u.status.Current == "waiting" && u.status.Message == "agent initialising" {
			u.status = Status{Current: "unknown", Since: m.clock.Now()}
		}
	case "relation-broken":
		if r, ok := m.relations[ev.relID]; ok && r.dying && r.broken[u.name] {
			delete(r.broken, u.name)
			delete(r.inScope, u.name)
			if len(r.broken) == 0 {
				delete(m.relations, r.id)
			}
		}
	case "remove":
		delete(m.units, u.name)
		for _, r := range m.relations {
			delete(r.unitData, u.name)
			delete(r.inScope, u.name)
			delete(r.members, u.name)
			for _, mem := range r.members {
				delete(mem, u.name)
			}
		}
	}
}

// Settle runs hooks until none is ready, at most maxHooks of them. It
// returns ErrNotSettled past the bound, and an error wrapping ErrHookFailed
// naming each unit left in error.
func (m *Model) Settle(ctx context.Context, maxHooks int) error {
	for n := 0; ; n++ {
		if n >= maxHooks {
			m.mu.Lock()
			pending := m.next() != nil
			m.mu.Unlock()
			if pending {
				return fmt.Errorf("%w after %d hooks", ErrNotSettled, maxHooks)
			}
			break
		}
		ran, err := m.Step(ctx)
		if err != nil {
			return err
		}
		if !ran {
			break
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, n := range m.unitNames() {
		if u := m.units[n]; u.failed {
			errs = append(errs, fmt.Errorf("unit %s: %w: %q", n, ErrHookFailed, u.queue[0].hook()))
		}
	}
	return errors.Join(errs...)
}

// Resolve retries the failed hook of a unit at once, as `juju resolve`.
func (m *Model) Resolve(unitName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[unitName]
	if !ok {
		return fmt.Errorf("cannot resolve: unit %q not found", unitName)
	}
	if !u.failed {
		return fmt.Errorf("cannot resolve: unit %q is not in error", unitName)
	}
	u.retryAt = m.clock.Now()
	return nil
}

// Pending returns the hooks queued on a unit, in order.
func (m *Model) Pending(unitName string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[unitName]
	if !ok {
		return nil
	}
	out := make([]string, len(u.queue))
	for i, ev := range u.queue {
		out[i] = ev.hook()
	}
	return out
}
