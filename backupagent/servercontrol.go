package backupagent

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// ServerControl stops and starts the database server whose data
// directory a physical PostgreSQL restore rewrites. The standalone agent
// takes one from its server-control config (ParseServerControl); a
// database charm that embeds this library sets Executor.Server to its
// own (for example one that asks its workload manager).
type ServerControl interface {
	// Stop returns once the server is stopped.
	Stop(ctx context.Context) error
	// Start returns once the server was started (it may still be
	// recovering).
	Start(ctx context.Context) error
	// String names the control for a person ("systemd unit X").
	String() string
}

// ServerControlFuncs is a ServerControl made of two functions: the
// callback of a charm that embeds this library.
type ServerControlFuncs struct {
	Name      string
	StopFunc  func(ctx context.Context) error
	StartFunc func(ctx context.Context) error
}

// Stop calls StopFunc.
func (f ServerControlFuncs) Stop(ctx context.Context) error { return f.StopFunc(ctx) }

// Start calls StartFunc.
func (f ServerControlFuncs) Start(ctx context.Context) error { return f.StartFunc(ctx) }

// String is Name.
func (f ServerControlFuncs) String() string { return f.Name }

// ServerControlField is the agent config option that names the control.
const ServerControlField = "server-control"

// controlTimeout bounds one stop or start command.
const controlTimeout = 5 * time.Minute

var (
	systemdUnit = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._:-]{0,250}$`)
	snapService = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}\.[a-z0-9][a-z0-9-]{0,39}$`)
)

// ParseServerControl reads a server-control value: "systemd:UNIT" (a
// systemd unit, stopped and started with systemctl) or
// "snap:SNAP.SERVICE" (a snap's service, with snap stop and snap start).
// An empty value is a nil control.
func ParseServerControl(s string) (ServerControl, error) {
	if s == "" {
		return nil, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "systemd" && systemdUnit.MatchString(name):
		return commandControl{what: "systemd unit " + name, stop: []string{"systemctl", "stop", name}, start: []string{"systemctl", "start", name}}, nil
	case ok && kind == "snap" && snapService.MatchString(name):
		return commandControl{what: "snap service " + name, stop: []string{"snap", "stop", name}, start: []string{"snap", "start", name}}, nil
	}
	return nil, fmt.Errorf("%s %q is not systemd:UNIT (such as systemd:postgresql@16-main.service) or snap:SNAP.SERVICE", ServerControlField, clip(s, 80))
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// commandControl runs one command to stop and one to start.
type commandControl struct {
	what        string
	stop, start []string
}

func (c commandControl) String() string                  { return c.what }
func (c commandControl) Stop(ctx context.Context) error  { return c.run(ctx, "stop", c.stop) }
func (c commandControl) Start(ctx context.Context) error { return c.run(ctx, "start", c.start) }

func (c commandControl) run(ctx context.Context, verb string, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot %s the %s (%s): %v: %s", verb, c.what, strings.Join(argv, " "), err, clip(strings.TrimSpace(string(out)), 400))
	}
	return nil
}
