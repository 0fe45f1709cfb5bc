// Package jujusim is a Juju model in a box. It deploys real charm binaries,
// runs each hook as its own process through dispatch with Juju's
// environment, and answers the hook tools they call (relation-get,
// status-set, secret-add, ...) over a unix socket, enforcing Juju's rules:
// leadership, databag ownership, commit on success only, hook ordering and
// serialisation per unit, retries of failed hooks.
//
// A test builds a Model, deploys charms, relates them, then steps the model
// hook by hook (Step) or lets it settle (Settle), and reads the outcome as
// juju status (Status), juju show-unit (ShowUnit) or a timeline of every
// hook, tool call and databag change (Timeline).
package jujusim

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Version is the Juju version jujusim emulates, as JUJU_VERSION.
const Version = "3.6.0"

// Options configure a Model.
type Options struct {
	// Dir holds the units' charm and state folders. Empty: a new temporary
	// folder, removed by Close.
	Dir string
	// Name is the model name (JUJU_MODEL_NAME); "test" when empty.
	Name string
	// Clock gives the time for retries and the timeline; the wall clock
	// when nil.
	Clock Clock
	// Log, when set, receives each timeline line as it happens.
	Log io.Writer
	// ToolPath is a built jujuc binary; when empty NewModel builds
	// cmd/jujuc once per process with the go tool.
	ToolPath string
	// HookTimeout bounds one hook process; 1 minute when zero.
	HookTimeout time.Duration
	// Env adds variables to every hook's environment.
	Env []string
}

// Model is a Juju model in a box. Its methods are safe for concurrent use.
type Model struct {
	opts     Options
	clock    Clock
	dir      string
	ownDir   bool
	toolsDir string
	sockDir  string
	sockPath string
	ln       net.Listener
	wg       sync.WaitGroup
	uuid     string

	stepMu sync.Mutex // one Step at a time

	mu        sync.Mutex // guards everything below
	apps      map[string]*app
	units     map[string]*unit
	relations map[int]*relation
	nextRel   int
	secrets   map[string]*secret
	contexts  map[string]*hookCtx
	timeline  []Event
	seq       int // event and context sequence
	machines  int
	closed    bool
}

// Clock tells the time; a test may pass a ManualClock.
type Clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NowEnv is the variable that carries a ManualClock's time, RFC 3339 with
// nanoseconds, into every hook, action and juju-exec command; it is not
// set with the wall clock. Juju has no such variable: a charm that honours
// it (see charms/database-backup-manager) can be tested on a fake clock.
const NowEnv = "JUJUSIM_NOW"

// NewManualClock returns a ManualClock set at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// NewModel starts an empty model: its folder, hook tools and agent socket.
// Close stops it.
func NewModel(opts Options) (*Model, error) {
	m := &Model{opts: opts, clock: opts.Clock, apps: map[string]*app{}, units: map[string]*unit{},
		relations: map[int]*relation{}, secrets: map[string]*secret{}, contexts: map[string]*hookCtx{}}
	if m.clock == nil {
		m.clock = wallClock{}
	}
	if m.opts.Name == "" {
		m.opts.Name = "test"
	}
	if m.opts.HookTimeout == 0 {
		m.opts.HookTimeout = time.Minute
	}
	m.uuid = fmt.Sprintf("%08x-0000-4000-8000-%012x", os.Getpid(), time.Now().UnixNano()&0xffffffffffff)
	var err error
	if m.dir = opts.Dir; m.dir == "" {
		if m.dir, err = os.MkdirTemp("", "jujusim-model-"); err != nil {
			return nil, fmt.Errorf("cannot create model folder: %w", err)
		}
		m.ownDir = true
	}
	tool := opts.ToolPath
	if tool == "" {
		if tool, err = BuildTool(); err != nil {
			m.removeDirs()
			return nil, err
		}
	}
	m.toolsDir = filepath.Join(m.dir, "tools")
	if err := installTools(tool, m.toolsDir); err != nil {
		m.removeDirs()
		return nil, err
	}
	// Unix socket paths are limited to 108 bytes: keep it short.
	if m.sockDir, err = os.MkdirTemp("", "jujusim"); err != nil {
		m.removeDirs()
		return nil, fmt.Errorf("cannot create socket folder: %w", err)
	}
	m.sockPath = filepath.Join(m.sockDir, "agent.socket")
	if m.ln, err = net.Listen("unix", m.sockPath); err != nil {
		m.removeDirs()
		return nil, fmt.Errorf("cannot listen on agent socket: %w", err)
	}
	m.wg.Add(1)
	go m.serve()
	return m, nil
}

// Close stops the agent socket and removes the folders the model created.
// It waits for tool calls in flight; it does not kill running hooks.
func (m *Model) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	err := m.ln.Close()
	m.wg.Wait()
	m.removeDirs()
	return err
}

func (m *Model) removeDirs() {
	if m.sockDir != "" {
		os.RemoveAll(m.sockDir)
	}
	if m.ownDir {
		os.RemoveAll(m.dir)
	}
}

// Dir returns the model's folder.
func (m *Model) Dir() string { return m.dir }

// ExecEnv returns the environment an outside process (a job runner, a
// scheduler) needs to call `juju-exec UNIT CMD` against this model: PATH
// with the hook tools first, and JUJUSIM_SOCKET.
func (m *Model) ExecEnv() []string {
	return []string{"PATH=" + m.toolsDir + string(os.PathListSeparator) + os.Getenv("PATH"), "JUJUSIM_SOCKET=" + m.sockPath}
}

// JujuExecPath returns the path of the juju-exec tool; it needs
// JUJUSIM_SOCKET from ExecEnv in its environment.
func (m *Model) JujuExecPath() string { return filepath.Join(m.toolsDir, "juju-exec") }
