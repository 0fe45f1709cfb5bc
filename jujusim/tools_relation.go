package jujusim

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
	"go.yaml.in/yaml/v3"
)

var relationTools = map[string]toolFunc{
	"relation-ids":       relationIDs,
	"relation-list":      relationList,
	"relation-get":       relationGet,
	"relation-set":       relationSet,
	"relation-model-get": relationModelGet,
}

// relationOf resolves the -r flag ("endpoint:id" or "id") or the hook's
// relation; it returns nil and a failure when there is none.
func (m *Model) relationOf(c *hookCtx, p *parsed) (*relation, *wire.Response) {
	if !p.has("relation") {
		if c.ev != nil && c.ev.relational() {
			if r, ok := m.relations[c.ev.relID]; ok {
				return r, nil
			}
		}
		resp := failf("no relation id specified")
		return nil, &resp
	}
	v := p.str("relation")
	idText := v[strings.LastIndex(v, ":")+1:]
	id, err := strconv.Atoi(idText)
	r, ok := m.relations[id]
	if err != nil || !ok || !r.has(c.unit.app.name) {
		resp := usagef("invalid value %q for option -r: relation not found", v)
		return nil, &resp
	}
	return r, nil
}

func relationIDs(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag)
	if err != nil {
		return usagef("%v", err)
	}
	var name string
	switch {
	case len(p.pos) == 1:
		name = p.pos[0]
	case len(p.pos) > 1:
		return usagef("unrecognized args: %q", p.pos[1:])
	case c.ev != nil && c.ev.relational():
		name = c.ev.endpoint
	default:
		return usagef("no endpoint name specified")
	}
	if _, ok := c.unit.app.meta.Endpoints[name]; !ok {
		return usagef("invalid value %q for argument: no endpoint named %q", name, name)
	}
	ids := []string{}
	for _, id := range m.sortedRelationIDs() {
		r := m.relations[id]
		if r.dying || !r.has(c.unit.app.name) || r.endOf(c.unit.app.name).ep.Name != name {
			continue
		}
		ids = append(ids, name+":"+strconv.Itoa(id))
	}
	return output(p, ids)
}

func relationList(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, relationFlag, appFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) > 0 {
		return usagef("unrecognized args: %q", p.pos)
	}
	r, fail := m.relationOf(c, p)
	if fail != nil {
		return *fail
	}
	if p.boolean("app") {
		return output(p, r.other(c.unit.app.name).app)
	}
	units := []string{}
	for n := range r.members[c.unit.name] {
		units = append(units, n)
	}
	sort.Slice(units, func(i, j int) bool { return unitLess(units[i], units[j]) })
	return output(p, units)
}

func relationGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, relationFlag, appFlag)
	if err != nil {
		return usagef("%v", err)
	}
	r, fail := m.relationOf(c, p)
	if fail != nil {
		return *fail
	}
	key, target := "", ""
	if len(p.pos) > 0 {
		key = p.pos[0]
	}
	if len(p.pos) > 1 {
		target = p.pos[1]
	}
	if len(p.pos) > 2 {
		return usagef("unrecognized args: %q", p.pos[2:])
	}
	if key == "-" {
		key = ""
	}
	isApp := p.boolean("app")
	if target == "" && c.ev != nil && c.ev.relational() && c.ev.relID == r.id {
		target = c.ev.remoteUnit
		if isApp || target == "" {
			target = c.ev.remoteApp
			isApp = true
		}
	}
	if target == "" {
		return usagef("no unit or application specified")
	}
	data, fail := m.readDatabag(c, r, target, isApp)
	if fail != nil {
		return *fail
	}
	if key != "" {
		if v, ok := data[key]; ok {
			return output(p, v)
		}
		return output(p, nil)
	}
	return output(p, data)
}

// readDatabag returns what c may read of target's databag in r: its own
// with staged writes, its application's only on the leader (or in a peer
// relation), a remote one as committed.
func (m *Model) readDatabag(c *hookCtx, r *relation, target string, isApp bool) (map[string]string, *wire.Response) {
	u := c.unit
	appName, _, isUnit := strings.Cut(target, "/")
	if isApp || !isUnit {
		if !r.has(appName) {
			resp := failf("cannot read settings for application %q in relation %d: not found", appName, r.id)
			return nil, &resp
		}
		if appName == u.app.name {
			// Every unit reads its peers' application databag; only the
			// leader reads its own application's in other relations.
			if u.app.leader != u.name && !r.peer() {
				resp := failf("permission denied")
				return nil, &resp
			}
			return applyChanges(r.appData[appName], c.relApp[r.id]), nil
		}
		return maps.Clone(r.appData[appName]), nil
	}
	if target == u.name {
		return applyChanges(r.unitData[target], c.relUnit[r.id]), nil
	}
	data, ok := r.unitData[target]
	if !ok || !r.has(appName) {
		resp := failf("cannot read settings for unit %q in relation %q: unit %q: settings not found",
			target, r.endOf(u.app.name).ep.Name+":"+strconv.Itoa(r.id), target)
		return nil, &resp
	}
	return maps.Clone(data), nil
}

var settingKey = regexp.MustCompile(`^[^=\s]+$`)

func relationSet(m *Model, c *hookCtx, args []string, stdin []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, relationFlag, appFlag, flagDef{names: []string{"file"}})
	if err != nil {
		return usagef("%v", err)
	}
	settings := map[string]string{}
	if f := p.str("file"); f != "" {
		b, err := readFileArg(f, stdin)
		if err != nil {
			return failf("%v", err)
		}
		if err := yaml.Unmarshal(b, &settings); err != nil {
			return failf("cannot parse settings file: expected a map of strings: %v", err)
		}
	}
	for _, kv := range p.pos {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !settingKey.MatchString(k) {
			return usagef("expected \"key=value\", got %q", kv)
		}
		settings[k] = v
	}
	var resp wire.Response
	if p.str("format") != "smart" {
		resp.Stderr = []byte(`--format flag deprecated for command "relation-set"`)
	}
	r, fail := m.relationOf(c, p)
	if fail != nil {
		return *fail
	}
	staged := c.relUnit
	if p.boolean("app") {
		if c.unit.app.leader != c.unit.name {
			return failf("cannot write relation settings")
		}
		staged = c.relApp
	}
	if staged[r.id] == nil {
		staged[r.id] = map[string]string{}
	}
	maps.Copy(staged[r.id], settings)
	return resp
}

func relationModelGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, relationFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if _, fail := m.relationOf(c, p); fail != nil {
		return *fail
	}
	return output(p, map[string]string{"uuid": m.uuid})
}

// readFileArg reads a --file argument: a path, or "-" for stdin.
func readFileArg(path string, stdin []byte) ([]byte, error) {
	if path == "-" {
		return stdin, nil
	}
	b, err := osReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", err)
	}
	return b, nil
}
