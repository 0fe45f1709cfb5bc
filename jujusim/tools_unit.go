package jujusim

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
	"go.yaml.in/yaml/v3"
)

var osReadFile = os.ReadFile

var unitTools = map[string]toolFunc{
	"config-get":              configGet,
	"is-leader":               isLeader,
	"status-set":              statusSet,
	"status-get":              statusGet,
	"juju-log":                jujuLog,
	"state-get":               stateGet,
	"state-set":               stateSet,
	"state-delete":            stateDelete,
	"unit-get":                unitGet,
	"application-version-set": appVersionSet,
	"open-port":               openPort,
	"close-port":              openPort,
	"opened-ports":            openedPorts,
	"network-get":             networkGet,
}

func configGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"all", "a"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	cfg := c.unit.app.config
	switch len(p.pos) {
	case 0:
		all := map[string]any{}
		for k := range c.unit.app.meta.Config {
			if v, ok := cfg[k]; ok {
				all[k] = v
			} else if p.boolean("all") {
				all[k] = nil
			}
		}
		return output(p, all)
	case 1:
		if p.boolean("all") {
			return usagef("cannot use argument --all together with key %q", p.pos[0])
		}
		return output(p, cfg[p.pos[0]])
	}
	return usagef("unrecognized args: %q", p.pos[1:])
}

func isLeader(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) > 0 {
		return usagef("unrecognized args: %q", p.pos)
	}
	return output(p, c.unit.app.leader == c.unit.name)
}

var workloadStatuses = []string{"maintenance", "blocked", "waiting", "active"}

func statusSet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, flagDef{names: []string{"application"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) < 1 {
		return usagef("invalid args, require <status> [message] [data]")
	}
	st := p.pos[0]
	if !slices.Contains(workloadStatuses, st) {
		return usagef("invalid status %q, expected one of %v", st, workloadStatuses)
	}
	s := Status{Current: st, Since: m.clock.Now()}
	if len(p.pos) > 1 {
		s.Message = p.pos[1]
	}
	if len(p.pos) > 2 {
		return usagef("unrecognized args: %q", p.pos[2:])
	}
	if p.boolean("application") {
		if c.unit.app.leader != c.unit.name {
			return failf("setting application status: this unit is not the leader")
		}
		c.unit.app.status = s
		return wire.Response{}
	}
	c.unit.status = s
	return wire.Response{}
}

type statusOut struct {
	Status  string         `json:"status" yaml:"status"`
	Message string         `json:"message" yaml:"message"`
	Data    map[string]any `json:"status-data" yaml:"status-data"`
}

func statusGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"application"}, isBool: true},
		flagDef{names: []string{"include-data"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	u := c.unit
	if p.boolean("application") {
		if u.app.leader != u.name {
			return failf("finding application status: this unit is not the leader")
		}
		units := map[string]statusOut{}
		for _, n := range u.app.units {
			s := m.units[n].status
			units[n] = statusOut{s.Current, s.Message, map[string]any{}}
		}
		a := u.app.status
		return output(p, map[string]any{"application-status": map[string]any{
			"status": a.Current, "message": a.Message, "status-data": map[string]any{}, "units": units}})
	}
	if !p.boolean("include-data") && p.str("format") == "smart" {
		return output(p, u.status.Current)
	}
	return output(p, statusOut{u.status.Current, u.status.Message, map[string]any{}})
}

func jujuLog(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, flagDef{names: []string{"log-level", "l"}}, flagDef{names: []string{"debug"}, isBool: true},
		formatFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) == 0 {
		return usagef("no message specified")
	}
	level := strings.ToUpper(p.str("log-level"))
	if level == "" {
		level = "INFO"
	}
	if p.boolean("debug") {
		level = "DEBUG"
	}
	m.record(c.unit.name, "log", "%s %s", level, strings.Join(p.pos, " "))
	return wire.Response{}
}

func stateGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"strict"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	u := c.unit
	current := map[string]string{}
	for k, v := range u.state {
		current[k] = v
	}
	for k, v := range c.state {
		if v == nil {
			delete(current, k)
		} else {
			current[k] = *v
		}
	}
	switch len(p.pos) {
	case 0:
		return output(p, current)
	case 1:
		v, ok := current[p.pos[0]]
		if !ok && p.boolean("strict") {
			return failf("%q not found", p.pos[0])
		}
		return output(p, v)
	}
	return usagef("unrecognized args: %q", p.pos[1:])
}

// maxStateValue is Juju's limit on one charm state value.
const maxStateValue = 64 * 1024

func stateSet(m *Model, c *hookCtx, args []string, stdin []byte) wire.Response {
	p, err := parseArgs(args, flagDef{names: []string{"file"}})
	if err != nil {
		return usagef("%v", err)
	}
	kv := map[string]string{}
	if f := p.str("file"); f != "" {
		b, err := readFileArg(f, stdin)
		if err != nil {
			return failf("%v", err)
		}
		if err := yaml.Unmarshal(b, &kv); err != nil {
			return failf("cannot parse state file: %v", err)
		}
	}
	for _, a := range p.pos {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usagef("expected \"key=value\", got %q", a)
		}
		kv[k] = v
	}
	for k, v := range kv {
		if len(v) > maxStateValue {
			return failf("state value for %q is %d bytes, over the limit of %d", k, len(v), maxStateValue)
		}
		c.state[k] = &v
	}
	return wire.Response{}
}

func stateDelete(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 {
		return usagef("expected one key")
	}
	c.state[p.pos[0]] = nil
	return wire.Response{}
}

func unitGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 || (p.pos[0] != "private-address" && p.pos[0] != "public-address") {
		return usagef("unit-get takes private-address or public-address")
	}
	return output(p, fmt.Sprintf("10.1.0.%d", c.unit.machine+1))
}

func appVersionSet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) > 1 {
		return usagef("unrecognized args: %q", p.pos[1:])
	}
	c.unit.app.version = strings.Join(p.pos, "")
	return wire.Response{}
}

func openPort(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, flagDef{names: []string{"endpoints"}})
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) != 1 {
		return usagef("expected a port or range, with an optional protocol")
	}
	port := p.pos[0]
	if !strings.Contains(port, "/") && port != "icmp" {
		port += "/tcp"
	}
	u := c.unit
	u.ports = slices.DeleteFunc(u.ports, func(s string) bool { return s == port })
	if !strings.HasPrefix(c.toolName, "close") {
		u.ports = append(u.ports, port)
		slices.Sort(u.ports)
	}
	return wire.Response{}
}

func openedPorts(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, flagDef{names: []string{"endpoints"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	return output(p, append([]string{}, c.unit.ports...))
}

func networkGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	p, err := parseArgs(args, formatFlag, outputFlag, relationFlag, flagDef{names: []string{"primary-address"}, isBool: true},
		flagDef{names: []string{"bind-address"}, isBool: true}, flagDef{names: []string{"ingress-address"}, isBool: true},
		flagDef{names: []string{"egress-subnets"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	addr := fmt.Sprintf("10.1.0.%d", c.unit.machine+1)
	if p.boolean("primary-address") || p.boolean("bind-address") || p.boolean("ingress-address") {
		return output(p, addr)
	}
	return output(p, map[string]any{
		"bind-addresses":    []any{map[string]any{"interface-name": "eth0", "addresses": []any{map[string]any{"value": addr, "cidr": addr + "/24"}}}},
		"egress-subnets":    []string{addr + "/32"},
		"ingress-addresses": []string{addr},
	})
}
