package jujusim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hookCtx is what the tools of one running hook, action or juju-exec see.
type hookCtx struct {
	id     string
	unit   *unit
	ev     *event // nil for actions and juju-exec
	action *actionRun
	// toolName is the tool being answered, set per call.
	toolName string
	// staged writes, committed only when the process exits 0
	relUnit map[int]map[string]string // relation id -> key -> value ("" deletes)
	relApp  map[int]map[string]string
	state   map[string]*string // nil deletes
	secrets []func()           // secret changes to apply on commit
	newSecs map[string]*secret // secrets added in this context
}

func (m *Model) newContext(u *unit, ev *event, act *actionRun, kind string) *hookCtx {
	m.seq++
	c := &hookCtx{id: fmt.Sprintf("%s-%s-%d", u.name, kind, m.seq), unit: u, ev: ev, action: act,
		relUnit: map[int]map[string]string{}, relApp: map[int]map[string]string{},
		state: map[string]*string{}, newSecs: map[string]*secret{}}
	m.contexts[c.id] = c
	return c
}

// env returns the environment of a process in context c.
func (m *Model) env(c *hookCtx, hook string) []string {
	u := c.unit
	env := []string{
		"PATH=" + m.toolsDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"LANG=C.UTF-8",
		"TMPDIR=" + os.TempDir(),
		"CHARM_DIR=" + u.charmDir,
		"JUJU_CHARM_DIR=" + u.charmDir,
		"JUJU_CONTEXT_ID=" + c.id,
		"JUJU_UNIT_NAME=" + u.name,
		"JUJU_MODEL_NAME=" + m.opts.Name,
		"JUJU_MODEL_UUID=" + m.uuid,
		"JUJU_VERSION=" + Version,
		"JUJU_MACHINE_ID=" + strconv.Itoa(u.machine),
		"JUJU_AVAILABILITY_ZONE=",
		"JUJU_AGENT_SOCKET_ADDRESS=" + m.sockPath,
		"JUJU_AGENT_SOCKET_NETWORK=unix",
		"JUJUSIM_SOCKET=" + m.sockPath,
	}
	if u.principal != "" {
		env = append(env, "JUJU_PRINCIPAL_UNIT="+u.principal)
	}
	if mc, ok := m.clock.(*ManualClock); ok {
		// Not Juju's: a charm under test may read the harness's clock.
		env = append(env, NowEnv+"="+mc.Now().UTC().Format(time.RFC3339Nano))
	}
	if hook != "" {
		env = append(env, "JUJU_HOOK_NAME="+hook)
	}
	if ev := c.ev; ev != nil {
		env = append(env, "JUJU_DISPATCH_PATH=hooks/"+hook)
		if ev.relational() {
			env = append(env, "JUJU_RELATION="+ev.endpoint, "JUJU_RELATION_ID="+ev.endpoint+":"+strconv.Itoa(ev.relID),
				"JUJU_REMOTE_APP="+ev.remoteApp)
			if ev.remoteUnit != "" {
				env = append(env, "JUJU_REMOTE_UNIT="+ev.remoteUnit)
			}
			if ev.departing != "" {
				env = append(env, "JUJU_DEPARTING_UNIT="+ev.departing)
			}
		}
		if ev.secretURI != "" {
			env = append(env, "JUJU_SECRET_ID="+ev.secretURI, "JUJU_SECRET_LABEL="+m.secretLabelFor(u, ev.secretURI))
			if ev.secretRev > 0 {
				env = append(env, "JUJU_SECRET_REVISION="+strconv.Itoa(ev.secretRev))
			}
		}
	}
	if a := c.action; a != nil {
		env = append(env, "JUJU_DISPATCH_PATH=actions/"+a.name, "JUJU_ACTION_NAME="+a.name, "JUJU_ACTION_UUID="+a.uuid)
	}
	return append(env, m.opts.Env...)
}

// runHook runs ev's hook on u (whose lock the caller holds) and reports
// whether it succeeded.
func (m *Model) runHook(ctx context.Context, u *unit, ev *event) (bool, error) {
	m.mu.Lock()
	c := m.newContext(u, ev, nil, ev.kind)
	hook := ev.hook()
	switch ev.kind {
	case "relation-joined":
		if r := m.relations[ev.relID]; r != nil {
			if r.members[u.name] == nil {
				r.members[u.name] = map[string]bool{}
			}
			r.members[u.name][ev.remoteUnit] = true
		}
	case "relation-departed":
		if r := m.relations[ev.relID]; r != nil {
			delete(r.members[u.name], ev.remoteUnit)
		}
	}
	env := m.env(c, hook)
	m.record(u.name, "hook", "%s start", hook)
	m.mu.Unlock()
	var out bytes.Buffer
	code, err := m.runProcess(ctx, u, env, []string{"./dispatch"}, &out, &out)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.contexts, c.id)
	if err != nil {
		return false, err
	}
	m.recordOutput(u.name, out.Bytes())
	if code != 0 {
		m.record(u.name, "hook", "%s failed: exit status %d; staged changes discarded", hook, code)
		return false, nil
	}
	m.commit(c)
	m.record(u.name, "hook", "%s done", hook)
	return true, nil
}

// runProcess runs argv in u's charm folder and returns its exit code.
// Only harness faults are errors.
func (m *Model) runProcess(ctx context.Context, u *unit, env, argv []string, stdout, stderr io.Writer) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.HookTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = u.charmDir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "jujusim: process killed: %v\n", ctx.Err())
		return -1, nil
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	}
	return 0, fmt.Errorf("cannot run %s on %s: %w", argv[0], u.name, err)
}

// commit applies what context c staged and fires relation-changed where a
// databag changed.
func (m *Model) commit(c *hookCtx) {
	u := c.unit
	for _, id := range sortedKeys(c.relUnit) {
		r, ok := m.relations[id]
		if !ok {
			continue
		}
		before := r.unitData[u.name]
		after := applyChanges(before, c.relUnit[id])
		if maps.Equal(before, after) {
			continue
		}
		r.unitData[u.name] = after
		m.recordData(u.name, id, u.name, before, after)
		for _, n := range m.unitNames() {
			if v := m.units[n]; !v.dying && r.members[n][u.name] {
				m.enqueue(v, &event{kind: "relation-changed", relID: id, remoteUnit: u.name, remoteApp: u.app.name})
			}
		}
	}
	for _, id := range sortedKeys(c.relApp) {
		r, ok := m.relations[id]
		if !ok {
			continue
		}
		before := r.appData[u.app.name]
		after := applyChanges(before, c.relApp[id])
		if maps.Equal(before, after) {
			continue
		}
		r.appData[u.app.name] = after
		m.recordData(u.name, id, u.app.name, before, after)
		remote := r.other(u.app.name).app
		for _, n := range m.unitNames() {
			v := m.units[n]
			if v.dying || v == u || v.app.name != remote || !r.inScope[n] {
				continue
			}
			m.enqueue(v, &event{kind: "relation-changed", relID: id, remoteApp: u.app.name})
		}
	}
	for _, k := range sortedKeys(c.state) {
		if v := c.state[k]; v == nil {
			delete(u.state, k)
		} else {
			u.state[k] = *v
		}
	}
	for _, f := range c.secrets {
		f()
	}
}

func applyChanges(before, changes map[string]string) map[string]string {
	after := maps.Clone(before)
	if after == nil {
		after = map[string]string{}
	}
	for k, v := range changes {
		if v == "" {
			delete(after, k)
		} else {
			after[k] = v
		}
	}
	return after
}

func sortedKeys[V any, K int | string](mp map[K]V) []K {
	return slices.Sorted(maps.Keys(mp))
}

// recordOutput puts a process's output lines in the timeline.
func (m *Model) recordOutput(unitName string, out []byte) {
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			m.record(unitName, "output", "%s", line)
		}
	}
}
