package jujusim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/dbbackup/dbbackup/jujusim/wire"
)

// toolFunc answers one hook tool call in context c; it runs with m.mu held.
type toolFunc func(m *Model, c *hookCtx, args []string, stdin []byte) wire.Response

var tools map[string]toolFunc

func init() {
	tools = map[string]toolFunc{}
	for name, f := range relationTools {
		tools[name] = f
	}
	for name, f := range unitTools {
		tools[name] = f
	}
	for name, f := range actionTools {
		tools[name] = f
	}
	for name, f := range secretTools {
		tools[name] = f
	}
}

func (m *Model) serve() {
	defer m.wg.Done()
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			defer conn.Close()
			var req wire.Request
			if err := json.NewDecoder(conn).Decode(&req); err != nil {
				return
			}
			resp := m.handle(req)
			_ = json.NewEncoder(conn).Encode(resp)
		}()
	}
}

func (m *Model) handle(req wire.Request) wire.Response {
	if req.Tool == "juju-exec" {
		return m.handleExec(req)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.contexts[req.ContextID]
	if !ok {
		return failf("bad request: unknown context %q", req.ContextID)
	}
	f, ok := tools[req.Tool]
	if !ok {
		return failf("unknown hook tool %q", req.Tool)
	}
	args := req.Args
	if req.Dir != "" {
		args = absFileArgs(args, req.Dir)
	}
	c.toolName = req.Tool
	resp := f(m, c, args, req.Stdin)
	m.record(c.unit.name, "tool", "%s%s -> %d%s", req.Tool, logArgs(req.Tool, req.Args), resp.Code, firstLine(resp.Stderr))
	return resp
}

// absFileArgs makes --file and -o paths absolute against the tool's
// working directory.
func absFileArgs(args []string, dir string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		for _, f := range []string{"--file", "-o", "--output"} {
			if v, ok := strings.CutPrefix(a, f+"="); ok && v != "-" && !filepath.IsAbs(v) {
				out[i] = f + "=" + filepath.Join(dir, v)
			} else if a == f && i+1 < len(out) && out[i+1] != "-" && !filepath.IsAbs(out[i+1]) {
				out[i+1] = filepath.Join(dir, out[i+1])
			}
		}
	}
	return out
}

// logArgs formats a tool's arguments for the timeline, hiding the values
// of secret content and credential-looking keys.
func logArgs(tool string, args []string) string {
	var b strings.Builder
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && !strings.HasPrefix(a, "-") {
			if strings.HasPrefix(tool, "secret-") || tool == "exec" && strings.HasPrefix(k, "secret") {
				v = "***"
			}
			a = k + "=" + masked(k, v)
		}
		b.WriteString(" ")
		if strings.ContainsAny(a, " \t\n\"'") || a == "" {
			a = fmt.Sprintf("%q", a)
		}
		b.WriteString(a)
	}
	return b.String()
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// failf is a tool failing as jujuc does: "ERROR ..." on stderr, exit 1.
func failf(format string, args ...any) wire.Response {
	return wire.Response{Stderr: []byte("ERROR " + fmt.Sprintf(format, args...) + "\n"), Code: 1}
}

// usagef is a tool refusing its arguments: exit 2.
func usagef(format string, args ...any) wire.Response {
	return wire.Response{Stderr: []byte("ERROR " + fmt.Sprintf(format, args...) + "\n"), Code: 2}
}

// output formats v as the call's --format asks and writes it to stdout or
// to the -o file.
func output(p *parsed, v any) wire.Response {
	b, err := formatValue(p.str("format"), v)
	if err != nil {
		return failf("%v", err)
	}
	if path := p.str("output"); path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return failf("%v", err)
		}
		return wire.Response{}
	}
	return wire.Response{Stdout: b}
}
