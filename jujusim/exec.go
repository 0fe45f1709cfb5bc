package jujusim

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
)

// ExecResult is what a juju-exec command printed and its exit code.
type ExecResult struct {
	Code   int
	Stdout string
	Stderr string
}

// Exec runs command with /bin/sh in unitName's hook context, as
// `juju-exec UNIT COMMAND` does: after the hook running on the unit, never
// beside one. Relation data and state it sets are committed when it exits 0.
func (m *Model) Exec(ctx context.Context, unitName, command string) (ExecResult, error) {
	m.mu.Lock()
	u, ok := m.units[unitName]
	m.mu.Unlock()
	if !ok || u.dying {
		return ExecResult{}, fmt.Errorf("cannot run juju-exec: unit %q not found", unitName)
	}
	if err := u.lock(ctx); err != nil {
		return ExecResult{}, err
	}
	defer u.unlock()
	m.mu.Lock()
	c := m.newContext(u, nil, nil, "run-commands")
	env := m.env(c, "")
	m.record(u.name, "exec", "start:%s", logArgs("exec", strings.Fields(command)))
	m.mu.Unlock()
	var stdout, stderr bytes.Buffer
	code, err := m.runProcess(ctx, u, env, []string{"/bin/sh", "-c", command}, &stdout, &stderr)
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.contexts, c.id)
	if err != nil {
		return ExecResult{}, err
	}
	if code == 0 {
		m.commit(c)
	}
	m.record(u.name, "exec", "done: exit %d", code)
	return ExecResult{Code: code, Stdout: stdout.String(), Stderr: stderr.String()}, nil
}

// handleExec answers the juju-exec tool: juju-exec [--unit] UNIT COMMAND...
func (m *Model) handleExec(req wire.Request) wire.Response {
	if req.ContextID != "" {
		return failf("juju-exec cannot be called from within a hook, have context %q", req.ContextID)
	}
	p, err := parseArgs(req.Args, flagDef{names: []string{"unit", "u"}}, flagDef{names: []string{"no-context"}, isBool: true})
	if err != nil {
		return usagef("%v", err)
	}
	unitName := p.str("unit")
	pos := p.pos
	if unitName == "" {
		if len(pos) == 0 {
			return usagef("missing unit name")
		}
		unitName, pos = pos[0], pos[1:]
	}
	if len(pos) == 0 {
		return usagef("missing command")
	}
	res, err := m.Exec(context.Background(), unitName, strings.Join(pos, " "))
	if err != nil {
		return failf("%v", err)
	}
	return wire.Response{Stdout: []byte(res.Stdout), Stderr: []byte(res.Stderr), Code: res.Code}
}
