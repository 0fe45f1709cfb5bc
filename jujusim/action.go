package jujusim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ActionResult is the outcome of an action, as `juju run` shows it.
type ActionResult struct {
	// Status is "completed" or "failed".
	Status string
	// Message is action-fail's message, or why the action failed.
	Message string
	// Results holds only what the action set with action-set.
	Results map[string]any
	// Log holds the action-log messages.
	Log []string
	// Output is the process's combined stdout and stderr.
	Output string
}

type actionRun struct {
	name    string
	uuid    string
	params  map[string]any
	results map[string]any
	failed  bool
	message string
	log     []string
}

// RunAction runs action name on unitName with params, checked against the
// action's schema (defaults filled in, unknown parameters refused). It
// waits for a hook running on the unit. A failed action does not put the
// unit in error.
func (m *Model) RunAction(ctx context.Context, unitName, name string, params map[string]any) (ActionResult, error) {
	m.mu.Lock()
	u, ok := m.units[unitName]
	if !ok || u.dying {
		m.mu.Unlock()
		return ActionResult{}, fmt.Errorf("cannot run action %s: unit %q not found", name, unitName)
	}
	spec, ok := u.app.meta.Actions[name]
	installed := u.installed
	m.mu.Unlock()
	if !installed {
		return ActionResult{}, fmt.Errorf("cannot run action %s on %s: unit not installed yet (settle the model first)", name, unitName)
	}
	if !ok {
		return ActionResult{}, fmt.Errorf("cannot run action %s on %s: action not defined by the charm", name, unitName)
	}
	checked, err := checkParams(spec, params)
	if err != nil {
		return ActionResult{}, fmt.Errorf("cannot run action %s on %s: %w", name, unitName, err)
	}
	if err := u.lock(ctx); err != nil {
		return ActionResult{}, err
	}
	defer u.unlock()
	m.mu.Lock()
	a := &actionRun{name: name, params: checked, results: map[string]any{}}
	c := m.newContext(u, nil, a, "action-"+name)
	a.uuid = fmt.Sprintf("%d", m.seq)
	env := m.env(c, "")
	m.record(u.name, "action", "%s start %s", name, logParams(checked))
	m.mu.Unlock()
	var out bytes.Buffer
	code, err := m.runProcess(ctx, u, env, []string{"./dispatch"}, &out, &out)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.contexts, c.id)
	if err != nil {
		return ActionResult{}, err
	}
	m.recordOutput(u.name, out.Bytes())
	res := ActionResult{Status: "completed", Results: a.results, Log: a.log, Output: out.String(), Message: a.message}
	switch {
	case a.failed:
		res.Status = "failed"
	case code != 0:
		res.Status, res.Message = "failed", fmt.Sprintf("exit status %d", code)
	}
	if code == 0 {
		m.commit(c)
	}
	m.record(u.name, "action", "%s %s%s", name, res.Status, firstLine([]byte(res.Message)))
	return res, nil
}

func logParams(p map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(p) {
		parts = append(parts, fmt.Sprintf("%s=%s", k, masked(k, fmt.Sprint(p[k]))))
	}
	return strings.Join(parts, " ")
}

// checkParams validates params against the action's JSON schema, as Juju
// does, after filling in defaults; it returns the params the action sees.
func checkParams(spec ActionSpec, params map[string]any) (map[string]any, error) {
	props := map[string]any{}
	for k, v := range spec.Params {
		props[k] = v
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if spec.AdditionalProperties != nil {
		schema["additionalProperties"] = *spec.AdditionalProperties
	}
	if len(spec.Required) > 0 {
		schema["required"] = spec.Required
	}
	doc, err := jsonRoundTrip(schema)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(params)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range spec.Params {
		if pm, ok := v.(map[string]any); ok && pm["default"] != nil {
			if _, set := out[k]; !set {
				out[k] = pm["default"]
			}
		}
	}
	inst, err := jsonRoundTrip(out)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("action.json", doc); err != nil {
		return nil, fmt.Errorf("cannot load action schema: %w", err)
	}
	sch, err := c.Compile("action.json")
	if err != nil {
		return nil, fmt.Errorf("cannot compile action schema: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return nil, fmt.Errorf("invalid parameters: %s", schemaProblems(err))
	}
	res, _ := inst.(map[string]any)
	return res, nil
}

// schemaProblems turns a validation error into "count: got number, want
// integer; missing property 'what'", without the schema's file name.
func schemaProblems(err error) string {
	lines := strings.Split(err.Error(), "\n")
	var out []string
	for _, l := range lines[min(1, len(lines)-1):] {
		l = strings.TrimPrefix(strings.TrimSpace(l), "- ")
		if rest, ok := strings.CutPrefix(l, "at '"); ok {
			if loc, msg, ok := strings.Cut(rest, "': "); ok {
				l = msg
				if loc = strings.TrimPrefix(loc, "/"); loc != "" {
					l = loc + ": " + msg
				}
			}
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

func jsonRoundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot encode %T: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("cannot decode %T: %w", v, err)
	}
	return out, nil
}

var actionTools = map[string]toolFunc{
	"action-get":  actionGet,
	"action-set":  actionSet,
	"action-fail": actionFail,
	"action-log":  actionLog,
}

func notInAction(tool string) wire.Response {
	return failf("%s: not running an action", tool)
}

func actionGet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	if c.action == nil {
		return notInAction("action-get")
	}
	p, err := parseArgs(args, formatFlag, outputFlag)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) > 1 {
		return usagef("unrecognized args: %q", p.pos[1:])
	}
	if len(p.pos) == 0 {
		return output(p, c.action.params)
	}
	var v any = c.action.params
	for _, k := range strings.Split(p.pos[0], ".") {
		mp, ok := v.(map[string]any)
		if !ok {
			return output(p, nil)
		}
		v = mp[k]
	}
	return output(p, v)
}

var actionKey = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

var reservedKeys = []string{"stdout", "stdout-encoding", "stderr", "stderr-encoding"}

func actionSet(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	if c.action == nil {
		return notInAction("action-set")
	}
	p, err := parseArgs(args)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) == 0 {
		return usagef("no key=value pairs specified")
	}
	type kv struct {
		path []string
		val  string
	}
	var sets []kv
	for _, a := range p.pos {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return usagef("argument %q must be of the form key.key...=value", a)
		}
		path := strings.Split(k, ".")
		for _, seg := range path {
			if !actionKey.MatchString(seg) {
				return usagef("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric and hyphens", seg)
			}
		}
		if slices.Contains(reservedKeys, path[0]) {
			return usagef("cannot set reserved action key %q", path[0])
		}
		sets = append(sets, kv{path, v})
	}
	for _, s := range sets {
		mp := c.action.results
		for _, seg := range s.path[:len(s.path)-1] {
			next, ok := mp[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				mp[seg] = next
			}
			mp = next
		}
		mp[s.path[len(s.path)-1]] = s.val
	}
	return wire.Response{}
}

func actionFail(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	if c.action == nil {
		return notInAction("action-fail")
	}
	p, err := parseArgs(args)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) > 1 {
		return usagef("unrecognized args: %q", p.pos[1:])
	}
	c.action.failed = true
	c.action.message = "action failed without reason given, check action for errors"
	if len(p.pos) == 1 {
		c.action.message = p.pos[0]
	}
	return wire.Response{}
}

func actionLog(m *Model, c *hookCtx, args []string, _ []byte) wire.Response {
	if c.action == nil {
		return notInAction("action-log")
	}
	p, err := parseArgs(args)
	if err != nil {
		return usagef("%v", err)
	}
	if len(p.pos) == 0 {
		return usagef("no message specified")
	}
	c.action.log = append(c.action.log, strings.Join(p.pos, " "))
	m.record(c.unit.name, "action", "log: %s", strings.Join(p.pos, " "))
	return wire.Response{}
}
