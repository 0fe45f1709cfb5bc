package jujusim

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
)

type relEnd struct {
	app string
	ep  Endpoint
}

func (e relEnd) String() string { return e.app + ":" + e.ep.Name }

type relation struct {
	id       int
	ends     [2]relEnd
	scope    string
	appData  map[string]map[string]string // application name -> databag
	unitData map[string]map[string]string // unit name -> databag
	members  map[string]map[string]bool   // unit -> remote units it has joined
	inScope  map[string]bool              // units that entered the relation
	dying    bool
	broken   map[string]bool // units whose relation-broken is still to run
}

func (r *relation) peer() bool { return r.ends[0].app == r.ends[1].app }

func (r *relation) has(app string) bool { return r.ends[0].app == app || r.ends[1].app == app }

func (r *relation) endOf(app string) relEnd {
	if r.ends[0].app == app {
		return r.ends[0]
	}
	return r.ends[1]
}

func (r *relation) other(app string) relEnd {
	if r.ends[0].app == app {
		return r.ends[1]
	}
	return r.ends[0]
}

func (m *Model) addRelation(a, b relEnd) *relation {
	r := &relation{id: m.nextRel, ends: [2]relEnd{a, b}, scope: "global",
		appData: map[string]map[string]string{a.app: {}, b.app: {}}, unitData: map[string]map[string]string{},
		members: map[string]map[string]bool{}, inScope: map[string]bool{}}
	if a.ep.Scope == "container" || b.ep.Scope == "container" {
		r.scope = "container"
	}
	m.nextRel++
	m.relations[r.id] = r
	m.record("", "model", "relation %d created: %s %s", r.id, a, b)
	return r
}

func (m *Model) sortedRelationIDs() []int {
	ids := make([]int, 0, len(m.relations))
	for id := range m.relations {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// remoteUnits returns the live units u sees across r, sorted.
func (m *Model) remoteUnits(r *relation, u *unit) []*unit {
	var out []*unit
	for _, n := range m.unitNames() {
		v := m.units[n]
		if v == u || v.dying || v.app.name != r.other(u.app.name).app {
			continue
		}
		if r.scope == "container" && v.machine != u.machine {
			continue
		}
		out = append(out, v)
	}
	return out
}

// joinUnit brings u into r: its databag, and joined then changed both ways
// with every remote unit it sees.
func (m *Model) joinUnit(r *relation, u *unit) {
	r.inScope[u.name] = true
	addr := fmt.Sprintf("10.1.0.%d", u.machine+1)
	r.unitData[u.name] = map[string]string{"egress-subnets": addr + "/32", "ingress-address": addr, "private-address": addr}
	for _, v := range m.remoteUnits(r, u) {
		m.enqueue(u, &event{kind: "relation-joined", relID: r.id, remoteUnit: v.name, remoteApp: v.app.name})
		m.enqueue(u, &event{kind: "relation-changed", relID: r.id, remoteUnit: v.name, remoteApp: v.app.name})
		m.enqueue(v, &event{kind: "relation-joined", relID: r.id, remoteUnit: u.name, remoteApp: u.app.name})
		m.enqueue(v, &event{kind: "relation-changed", relID: r.id, remoteUnit: u.name, remoteApp: u.app.name})
	}
}

// departUnit takes u out of r: relation-departed both ways with every
// remote unit. JUJU_DEPARTING_UNIT is u when u leaves (unitLeaves), else
// the remote unit of each hook, the relation going away.
func (m *Model) departUnit(r *relation, u *unit, unitLeaves bool) {
	for _, v := range m.remoteUnits(r, u) {
		dv, du := u.name, u.name
		if !unitLeaves {
			dv, du = v.name, u.name
		}
		m.enqueue(u, &event{kind: "relation-departed", relID: r.id, remoteUnit: v.name, remoteApp: v.app.name, departing: dv})
		m.enqueue(v, &event{kind: "relation-departed", relID: r.id, remoteUnit: u.name, remoteApp: u.app.name, departing: du})
	}
}

// Integrate relates two endpoints, each "app:endpoint" or just "app" when
// one pair of endpoints matches. Interfaces must match and roles pair a
// provider with a requirer. It returns the relation id.
func (m *Model) Integrate(ctx context.Context, a, b string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ea, eb, err := m.matchEndpoints(a, b)
	if err != nil {
		return 0, fmt.Errorf("cannot integrate %s and %s: %w", a, b, err)
	}
	for _, r := range m.relations {
		if !r.dying && (r.ends == [2]relEnd{ea, eb} || r.ends == [2]relEnd{eb, ea}) {
			return 0, fmt.Errorf("cannot integrate %s and %s: relation %s %s already exists", a, b, ea, eb)
		}
	}
	r := m.addRelation(ea, eb)
	for _, e := range r.ends {
		for _, n := range m.apps[e.app].units {
			u := m.units[n]
			if !u.dying {
				m.enqueue(u, &event{kind: "relation-created", relID: r.id, remoteApp: r.other(e.app).app})
			}
		}
	}
	for _, n := range m.apps[ea.app].units {
		if u := m.units[n]; !u.dying {
			m.joinUnit(r, u)
		}
	}
	for _, n := range m.apps[eb.app].units {
		if u := m.units[n]; !u.dying && !r.inScope[n] {
			r.inScope[n] = true
			addr := fmt.Sprintf("10.1.0.%d", u.machine+1)
			r.unitData[n] = map[string]string{"egress-subnets": addr + "/32", "ingress-address": addr, "private-address": addr}
		}
	}
	if r.scope == "container" {
		for _, e := range r.ends {
			if !m.apps[e.app].meta.Subordinate {
				for _, n := range m.apps[e.app].units {
					if !m.units[n].dying {
						m.addSubordinates(m.units[n])
					}
				}
			}
		}
	}
	return r.id, nil
}

func (m *Model) matchEndpoints(a, b string) (relEnd, relEnd, error) {
	ca, err := m.candidates(a)
	if err != nil {
		return relEnd{}, relEnd{}, err
	}
	cb, err := m.candidates(b)
	if err != nil {
		return relEnd{}, relEnd{}, err
	}
	var found [][2]relEnd
	for _, x := range ca {
		for _, y := range cb {
			if x.ep.Interface != y.ep.Interface {
				continue
			}
			if x.ep.Role == "provider" && y.ep.Role == "requirer" || x.ep.Role == "requirer" && y.ep.Role == "provider" {
				found = append(found, [2]relEnd{x, y})
			}
		}
	}
	switch len(found) {
	case 0:
		return relEnd{}, relEnd{}, fmt.Errorf("no matching endpoints (interfaces and provider/requirer roles must match)")
	case 1:
		return found[0][0], found[0][1], nil
	}
	// Prefer explicit over the implicit juju-info when both are possible.
	var explicit [][2]relEnd
	for _, f := range found {
		if f[0].ep.Interface != "juju-info" {
			explicit = append(explicit, f)
		}
	}
	if len(explicit) == 1 {
		return explicit[0][0], explicit[0][1], nil
	}
	return relEnd{}, relEnd{}, fmt.Errorf("ambiguous relation: %d pairs of endpoints match, name them", len(found))
}

func (m *Model) candidates(s string) ([]relEnd, error) {
	appName, epName, _ := strings.Cut(s, ":")
	a, ok := m.apps[appName]
	if !ok {
		return nil, fmt.Errorf("application %q not found", appName)
	}
	var out []relEnd
	for _, ep := range a.meta.Endpoints {
		if epName == "" || ep.Name == epName {
			out = append(out, relEnd{appName, ep})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("application %q has no endpoint %q", appName, epName)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ep.Name < out[j].ep.Name })
	return out, nil
}

// RemoveRelation removes relation id: relation-departed for every remote
// unit, then relation-broken, on both sides.
func (m *Model) RemoveRelation(ctx context.Context, id int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.relations[id]
	if !ok || r.dying || r.peer() {
		return fmt.Errorf("cannot remove relation %d: relation not found", id)
	}
	r.dying = true
	m.record("", "model", "remove relation %d", id)
	r.broken = map[string]bool{}
	for _, n := range m.removeSubordinates(r) {
		r.broken[n] = true
	}
	for _, n := range m.apps[r.ends[0].app].units {
		if u := m.units[n]; !u.dying {
			m.departUnit(r, u, false)
		}
	}
	for _, e := range r.ends {
		for _, n := range m.apps[e.app].units {
			if u := m.units[n]; !u.dying && r.inScope[n] {
				r.broken[n] = true
				m.enqueue(u, &event{kind: "relation-broken", relID: id, remoteApp: r.other(e.app).app})
			}
		}
	}
	if len(r.broken) == 0 {
		delete(m.relations, id)
	}
	return nil
}

// removeSubordinates removes the subordinate units that r, a
// container-scoped relation going away, brought beside their principals,
// and returns the units whose relation-broken on r that queued.
func (m *Model) removeSubordinates(r *relation) []string {
	if r.scope != "container" {
		return nil
	}
	var gone []string
	for _, e := range r.ends {
		sub, principal := m.apps[e.app], r.other(e.app).app
		if !sub.meta.Subordinate || m.apps[principal].meta.Subordinate {
			continue
		}
		for _, name := range append([]string(nil), sub.units...) {
			s := m.units[name]
			if p, ok := m.units[s.principal]; ok && p.app.name == principal && !s.dying {
				m.removeUnit(s)
				if r.inScope[name] {
					gone = append(gone, name)
				}
			}
		}
	}
	return gone
}

// RelationData returns a copy of a committed databag of relation id: the
// unit databag of owner when it names a unit, else the application's.
func (m *Model) RelationData(id int, owner string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.relations[id]
	if !ok {
		return nil
	}
	if strings.Contains(owner, "/") {
		return maps.Clone(r.unitData[owner])
	}
	return maps.Clone(r.appData[owner])
}
