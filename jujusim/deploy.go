package jujusim

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status is a workload or application status as status-set sets it.
type Status struct {
	Current string    `yaml:"current" json:"status"`
	Message string    `yaml:"message,omitempty" json:"message"`
	Since   time.Time `yaml:"-" json:"-"`
}

type app struct {
	name     string
	meta     *Meta
	charm    Charm
	config   map[string]any
	status   Status
	version  string
	leader   string
	nextUnit int
	units    []string // in order of creation
}

type unit struct {
	name      string
	app       *app
	charmDir  string
	status    Status
	state     map[string]string
	queue     []*event
	running   *event // the event whose hook is running, or nil
	failed    bool   // the head of queue failed; retried at retryAt
	retryAt   time.Time
	retries   int
	principal string // for subordinates: the principal unit
	machine   int
	dying     bool
	installed bool // install has run to success
	ports     []string
	hookLock  chan struct{} // held while a hook, action or juju-exec runs
}

func (u *unit) lock(ctx context.Context) error {
	select {
	case u.hookLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *unit) unlock() { <-u.hookLock }

// Deploy deploys charm c as application name with n units. Each unit gets
// install, leader-elected (unit 0), config-changed and start queued; the
// hooks run on Step or Settle.
func (m *Model) Deploy(ctx context.Context, name string, c Charm, n int) error {
	meta, err := ReadMeta(c.Dir)
	if err != nil {
		return fmt.Errorf("cannot deploy %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.apps[name]; ok {
		return fmt.Errorf("cannot deploy %s: application already exists", name)
	}
	if meta.Subordinate && n != 0 {
		return fmt.Errorf("cannot deploy %s: subordinate application must be deployed without units", name)
	}
	a := &app{name: name, meta: meta, charm: c, config: map[string]any{}, status: Status{Current: "unknown"}}
	for k, o := range meta.Config {
		if o.Default != nil {
			a.config[k] = o.Default
		}
	}
	m.apps[name] = a
	m.record("", "model", "deploy %s (charm %s, %d units)", name, meta.Name, n)
	for _, ep := range meta.Endpoints {
		if ep.Role == "peer" {
			m.addRelation(relEnd{a.name, ep}, relEnd{a.name, ep})
		}
	}
	for range n {
		if _, err := m.addUnit(a, ""); err != nil {
			return err
		}
	}
	return nil
}

// AddUnit adds one unit to application name and returns its name.
func (m *Model) AddUnit(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.apps[name]
	if !ok {
		return "", fmt.Errorf("cannot add unit: application %q not found", name)
	}
	if a.meta.Subordinate {
		return "", fmt.Errorf("cannot add unit to %s: subordinate units come with their principal", name)
	}
	return m.addUnit(a, "")
}

func (m *Model) addUnit(a *app, principal string) (string, error) {
	name := a.name + "/" + strconv.Itoa(a.nextUnit)
	a.nextUnit++
	u := &unit{name: name, app: a, state: map[string]string{}, hookLock: make(chan struct{}, 1),
		status: Status{Current: "waiting", Message: "agent initialising"}, principal: principal}
	if principal != "" {
		u.machine = m.units[principal].machine
	} else {
		u.machine = m.machines
		m.machines++
	}
	u.charmDir = filepath.Join(m.dir, "units", "unit-"+strings.ReplaceAll(name, "/", "-"), "charm")
	if err := a.meta.install(a.charm, u.charmDir); err != nil {
		return "", fmt.Errorf("cannot add unit %s: %w", name, err)
	}
	m.units[name] = u
	a.units = append(a.units, name)
	m.record(name, "model", "add unit %s", name)
	m.enqueue(u, &event{kind: "install"})
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if r.has(a.name) && !r.dying {
			m.enqueue(u, &event{kind: "relation-created", relID: id, remoteApp: r.other(a.name).app})
		}
	}
	if a.leader == "" {
		a.leader = name
		m.enqueue(u, &event{kind: "leader-elected"})
	}
	m.enqueue(u, &event{kind: "config-changed"})
	m.enqueue(u, &event{kind: "start"})
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if r.has(a.name) && !r.dying {
			m.joinUnit(r, u)
		}
	}
	if principal == "" {
		m.addSubordinates(u)
	}
	return name, nil
}

// addSubordinates creates the unit of each subordinate application related
// to u's application over a container-scoped relation.
func (m *Model) addSubordinates(u *unit) {
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if r.scope != "container" || !r.has(u.app.name) {
			continue
		}
		sub := m.apps[r.other(u.app.name).app]
		if !sub.meta.Subordinate || m.subordinateOf(sub, u.name) != nil {
			continue
		}
		_, _ = m.addUnit(sub, u.name)
	}
}

func (m *Model) subordinateOf(sub *app, principal string) *unit {
	for _, n := range sub.units {
		if m.units[n].principal == principal {
			return m.units[n]
		}
	}
	return nil
}

// RemoveUnit removes a unit: it leaves its relations (departed, broken),
// stops and is removed once those hooks have run. Its subordinates go
// with it. A new leader is elected if it led.
func (m *Model) RemoveUnit(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[name]
	if !ok || u.dying {
		return fmt.Errorf("cannot remove unit: unit %q not found", name)
	}
	m.removeUnit(u)
	return nil
}

func (m *Model) removeUnit(u *unit) {
	u.dying = true
	m.record(u.name, "model", "remove unit %s", u.name)
	for _, n := range slices.Clone(m.unitNames()) {
		if s := m.units[n]; s.principal == u.name && !s.dying {
			m.removeUnit(s)
		}
	}
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if r.has(u.app.name) {
			m.departUnit(r, u, true)
			m.enqueue(u, &event{kind: "relation-broken", relID: id, remoteApp: r.other(u.app.name).app})
		}
	}
	m.enqueue(u, &event{kind: "stop"})
	m.enqueue(u, &event{kind: "remove"})
	a := u.app
	a.units = slices.DeleteFunc(a.units, func(n string) bool { return n == u.name })
	if a.leader == u.name {
		a.leader = ""
		if len(a.units) > 0 {
			m.setLeader(m.units[a.units[0]])
		}
	}
}

// SetLeader makes unit the leader of its application; it runs
// leader-elected. Other units learn of it through is-leader.
func (m *Model) SetLeader(ctx context.Context, unitName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[unitName]
	if !ok || u.dying {
		return fmt.Errorf("cannot set leader: unit %q not found", unitName)
	}
	if u.app.leader == unitName {
		return nil
	}
	m.setLeader(u)
	return nil
}

func (m *Model) setLeader(u *unit) {
	u.app.leader = u.name
	m.record(u.name, "model", "%s is now the leader of %s", u.name, u.app.name)
	m.enqueue(u, &event{kind: "leader-elected"})
}

// Leader returns the leader unit of application name.
func (m *Model) Leader(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.apps[name]; ok {
		return a.leader
	}
	return ""
}

// Units returns the live units of application name, in creation order.
func (m *Model) Units(name string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.apps[name]; ok {
		return slices.Clone(a.units)
	}
	return nil
}

// UpdateStatus queues update-status on every live unit.
func (m *Model) UpdateStatus() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.unitNames() {
		if u := m.units[n]; !u.dying {
			m.enqueue(u, &event{kind: "update-status"})
		}
	}
}

// UpdateStatusEvery queues update-status on every unit each period until
// ctx ends; pair it with a goroutine that settles the model.
func (m *Model) UpdateStatusEvery(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.UpdateStatus()
		}
	}
}

// unitNames returns every unit name, sorted by application then number.
func (m *Model) unitNames() []string {
	names := make([]string, 0, len(m.units))
	for n := range m.units {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return unitLess(names[i], names[j]) })
	return names
}

func unitLess(a, b string) bool {
	aa, an, _ := strings.Cut(a, "/")
	ba, bn, _ := strings.Cut(b, "/")
	if aa != ba {
		return aa < ba
	}
	ai, _ := strconv.Atoi(an)
	bi, _ := strconv.Atoi(bn)
	return ai < bi
}
