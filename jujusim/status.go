package jujusim

import (
	"fmt"
	"maps"
	"strings"

	"go.yaml.in/yaml/v3"
)

type statusModel struct {
	Model        statusModelInfo          `yaml:"model"`
	Machines     map[string]statusMachine `yaml:"machines"`
	Applications map[string]statusApp     `yaml:"applications"`
}

type statusModelInfo struct {
	Name       string `yaml:"name"`
	Type       string `yaml:"type"`
	Controller string `yaml:"controller"`
	Cloud      string `yaml:"cloud"`
	Version    string `yaml:"version"`
}

type statusMachine struct {
	JujuStatus statusValue `yaml:"juju-status"`
	DNSName    string      `yaml:"dns-name"`
}

type statusValue struct {
	Current string `yaml:"current"`
	Message string `yaml:"message,omitempty"`
}

type statusApp struct {
	Charm             string                 `yaml:"charm"`
	Version           string                 `yaml:"version,omitempty"`
	Scale             int                    `yaml:"scale,omitempty"`
	Exposed           bool                   `yaml:"exposed"`
	ApplicationStatus statusValue            `yaml:"application-status"`
	Relations         map[string][]statusRel `yaml:"relations,omitempty"`
	SubordinateTo     []string               `yaml:"subordinate-to,omitempty"`
	Units             map[string]statusUnit  `yaml:"units,omitempty"`
}

type statusRel struct {
	RelatedApplication string `yaml:"related-application"`
	Interface          string `yaml:"interface"`
	Scope              string `yaml:"scope"`
}

type statusUnit struct {
	WorkloadStatus statusValue           `yaml:"workload-status"`
	JujuStatus     statusValue           `yaml:"juju-status"`
	Leader         bool                  `yaml:"leader,omitempty"`
	Machine        string                `yaml:"machine,omitempty"`
	OpenPorts      []string              `yaml:"open-ports,omitempty"`
	PublicAddress  string                `yaml:"public-address"`
	Subordinates   map[string]statusUnit `yaml:"subordinates,omitempty"`
}

// Status returns the model as `juju status --format yaml` shows it.
func (m *Model) Status() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := statusModel{Model: statusModelInfo{Name: m.opts.Name, Type: "iaas", Controller: "jujusim", Cloud: "localhost", Version: Version},
		Machines: map[string]statusMachine{}, Applications: map[string]statusApp{}}
	for _, name := range sortedKeys(m.apps) {
		a := m.apps[name]
		sa := statusApp{Charm: a.meta.Name, Version: a.version, ApplicationStatus: m.appStatus(a), Units: map[string]statusUnit{}}
		if !a.meta.Subordinate {
			sa.Scale = len(a.units)
		}
		for _, id := range m.sortedRelationIDs() {
			r := m.relations[id]
			if !r.has(name) {
				continue
			}
			if sa.Relations == nil {
				sa.Relations = map[string][]statusRel{}
			}
			own := r.endOf(name)
			sa.Relations[own.ep.Name] = append(sa.Relations[own.ep.Name], statusRel{r.other(name).app, own.ep.Interface, r.scope})
			if a.meta.Subordinate && !r.peer() && r.scope == "container" {
				sa.SubordinateTo = append(sa.SubordinateTo, r.other(name).app)
			}
		}
		if a.meta.Subordinate {
			sa.Units = nil
		}
		for _, n := range a.units {
			u := m.units[n]
			if u.principal != "" {
				continue
			}
			su := m.unitStatus(u)
			su.Machine = fmt.Sprint(u.machine)
			st.Machines[su.Machine] = statusMachine{JujuStatus: statusValue{Current: "started"}, DNSName: su.PublicAddress}
			for _, sn := range m.unitNames() {
				if s := m.units[sn]; s.principal == n && !s.dying {
					if su.Subordinates == nil {
						su.Subordinates = map[string]statusUnit{}
					}
					su.Subordinates[sn] = m.unitStatus(s)
				}
			}
			sa.Units[n] = su
		}
		st.Applications[name] = sa
	}
	return marshalYAML(st)
}

func (m *Model) unitStatus(u *unit) statusUnit {
	su := statusUnit{WorkloadStatus: statusValue{u.status.Current, u.status.Message}, JujuStatus: statusValue{Current: "idle"},
		Leader: u.app.leader == u.name, OpenPorts: u.ports, PublicAddress: fmt.Sprintf("10.1.0.%d", u.machine+1)}
	switch {
	case u.failed:
		su.WorkloadStatus = statusValue{"error", fmt.Sprintf("hook failed: %q", u.queue[0].hook())}
		su.JujuStatus = statusValue{Current: "error"}
	case u.running != nil:
		su.JujuStatus = statusValue{"executing", "running " + u.running.hook() + " hook"}
	case len(u.queue) > 0 && u.queue[0].kind == "install":
		su.JujuStatus = statusValue{"allocating", ""}
	}
	return su
}

// appStatus is the application status: what the leader set, else the most
// severe unit status, as Juju derives it.
func (m *Model) appStatus(a *app) statusValue {
	if a.status.Current != "unknown" && a.status.Current != "" {
		return statusValue{a.status.Current, a.status.Message}
	}
	rank := map[string]int{"error": 5, "blocked": 4, "waiting": 3, "maintenance": 2, "active": 1}
	best := statusValue{Current: "unknown"}
	for _, n := range a.units {
		s := m.unitStatus(m.units[n]).WorkloadStatus
		if rank[s.Current] > rank[best.Current] {
			best = s
		}
	}
	return best
}

type showUnit struct {
	Charm        string         `yaml:"charm"`
	Leader       bool           `yaml:"leader"`
	Life         string         `yaml:"life"`
	Principal    string         `yaml:"principal,omitempty"`
	RelationInfo []showRelation `yaml:"relation-info,omitempty"`
	Machine      string         `yaml:"machine"`
	PublicAddr   string         `yaml:"public-address"`
	Workload     statusValue    `yaml:"workload-status"`
}

type showRelation struct {
	RelationID      int                     `yaml:"relation-id"`
	Endpoint        string                  `yaml:"endpoint"`
	CrossModel      bool                    `yaml:"cross-model"`
	RelatedEndpoint string                  `yaml:"related-endpoint"`
	ApplicationData map[string]string       `yaml:"application-data"`
	LocalUnit       showUnitData            `yaml:"local-unit"`
	RelatedUnits    map[string]showUnitData `yaml:"related-units,omitempty"`
}

type showUnitData struct {
	InScope bool              `yaml:"in-scope"`
	Data    map[string]string `yaml:"data"`
}

// ShowUnit returns a unit as `juju show-unit` shows it, with the committed
// data of its relations: its application's databag (application-data), its
// own (local-unit) and each remote unit's it has joined (related-units).
func (m *Model) ShowUnit(unitName string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[unitName]
	if !ok {
		return "", fmt.Errorf("cannot show unit: unit %q not found", unitName)
	}
	life := "alive"
	if u.dying {
		life = "dying"
	}
	su := showUnit{Charm: "local:" + u.app.meta.Name + "-0", Leader: u.app.leader == u.name, Life: life, Principal: u.principal,
		Machine: fmt.Sprint(u.machine), PublicAddr: fmt.Sprintf("10.1.0.%d", u.machine+1), Workload: m.unitStatus(u).WorkloadStatus}
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if !r.inScope[u.name] {
			continue
		}
		remote := r.other(u.app.name)
		sr := showRelation{RelationID: id, Endpoint: r.endOf(u.app.name).ep.Name, RelatedEndpoint: remote.ep.Name,
			ApplicationData: maps.Clone(r.appData[remote.app]), LocalUnit: showUnitData{true, maps.Clone(r.unitData[u.name])}}
		if sr.ApplicationData == nil {
			sr.ApplicationData = map[string]string{}
		}
		for _, n := range sortedKeys(r.members[u.name]) {
			if sr.RelatedUnits == nil {
				sr.RelatedUnits = map[string]showUnitData{}
			}
			sr.RelatedUnits[n] = showUnitData{true, maps.Clone(r.unitData[n])}
		}
		su.RelationInfo = append(su.RelationInfo, sr)
	}
	return marshalYAML(map[string]showUnit{unitName: su}), nil
}

// UnitStatus returns the workload status of a unit ("error" with the hook
// that failed when it is in error) and its message.
func (m *Model) UnitStatus(unitName string) (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.units[unitName]
	if !ok {
		return "", ""
	}
	s := m.unitStatus(u).WorkloadStatus
	return s.Current, s.Message
}

// AppStatus returns the application status and message.
func (m *Model) AppStatus(name string) (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.apps[name]
	if !ok {
		return "", ""
	}
	s := m.appStatus(a)
	return s.Current, strings.TrimSpace(s.Message)
}

// marshalYAML writes v as Juju's CLI does, with two-space indents.
func marshalYAML(v any) string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	_ = enc.Encode(v)
	_ = enc.Close()
	return b.String()
}
