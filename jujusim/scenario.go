package jujusim

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Scenario is a model and the steps to drive it, as the jujusim command
// reads it from a YAML file.
type Scenario struct {
	// Applications to deploy, by name.
	Applications map[string]ScenarioApp `yaml:"applications"`
	// Integrate lists pairs of endpoints to relate after deploying.
	Integrate [][2]string `yaml:"integrate"`
	// Steps run in order after deploying and relating.
	Steps []Step `yaml:"steps"`
	dir   string
}

// ScenarioApp is one application of a scenario.
type ScenarioApp struct {
	// Charm is the charm folder, relative to the scenario file.
	Charm string `yaml:"charm"`
	// Binary is the built charm binary, relative to the scenario file.
	Binary string `yaml:"binary"`
	// Build is a Go package to build as the charm binary ("./charms/x").
	Build string `yaml:"build"`
	// Units is the number of units.
	Units int `yaml:"units"`
	// Config sets options after deploying.
	Config map[string]string `yaml:"config"`
}

// Step is one scenario step; exactly one field is set.
type Step struct {
	Settle         int            `yaml:"settle"`
	Config         *ConfigStep    `yaml:"config"`
	Action         *ActionStep    `yaml:"action"`
	Exec           *ExecStep      `yaml:"exec"`
	UpdateStatus   bool           `yaml:"update-status"`
	AddUnit        string         `yaml:"add-unit"`
	RemoveUnit     string         `yaml:"remove-unit"`
	Leader         string         `yaml:"leader"`
	Integrate      []string       `yaml:"integrate"`
	RemoveRelation *int           `yaml:"remove-relation"`
	Resolve        string         `yaml:"resolve"`
	ShowUnit       string         `yaml:"show-unit"`
	Status         bool           `yaml:"status"`
	Extra          map[string]any `yaml:",inline"`
}

// ConfigStep sets config on an application.
type ConfigStep struct {
	App    string            `yaml:"app"`
	Values map[string]string `yaml:"values"`
}

// ActionStep runs an action.
type ActionStep struct {
	Unit   string         `yaml:"unit"`
	Name   string         `yaml:"name"`
	Params map[string]any `yaml:"params"`
}

// ExecStep runs a command with juju-exec.
type ExecStep struct {
	Unit    string `yaml:"unit"`
	Command string `yaml:"command"`
}

// ReadScenario reads a scenario file.
func ReadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read scenario: %w", err)
	}
	var s Scenario
	if err := yaml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("cannot parse scenario %s: %w", path, err)
	}
	for i, st := range s.Steps {
		if len(st.Extra) > 0 {
			return nil, fmt.Errorf("cannot parse scenario %s: step %d: unknown step %v", path, i+1, sortedKeys(st.Extra))
		}
	}
	s.dir = filepath.Dir(path)
	return &s, nil
}

func (s *Scenario) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}

// Run deploys the scenario's applications into m, relates them, settles,
// and runs its steps, writing what each shows to w. It stops at the first
// error; a settle that leaves a unit in error is one.
func (s *Scenario) Run(ctx context.Context, m *Model, w io.Writer) error {
	for _, name := range sortedKeys(s.Applications) {
		a := s.Applications[name]
		c := Charm{Dir: s.path(a.Charm), Binary: s.path(a.Binary)}
		if a.Build != "" {
			c.Binary = filepath.Join(m.Dir(), "build", name)
			cmd := exec.CommandContext(ctx, "go", "build", "-o", c.Binary, a.Build)
			cmd.Dir = s.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("cannot build %s: %v: %s", a.Build, err, out)
			}
		}
		if err := m.Deploy(ctx, name, c, a.Units); err != nil {
			return err
		}
		if len(a.Config) > 0 {
			if err := m.Config(ctx, name, a.Config); err != nil {
				return err
			}
		}
	}
	for _, pair := range s.Integrate {
		if _, err := m.Integrate(ctx, pair[0], pair[1]); err != nil {
			return err
		}
	}
	for i, st := range s.Steps {
		if err := s.step(ctx, m, st, w); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func (s *Scenario) step(ctx context.Context, m *Model, st Step, w io.Writer) error {
	switch {
	case st.Settle > 0:
		return m.Settle(ctx, st.Settle)
	case st.Config != nil:
		return m.Config(ctx, st.Config.App, st.Config.Values)
	case st.Action != nil:
		res, err := m.RunAction(ctx, st.Action.Unit, st.Action.Name, st.Action.Params)
		if err != nil {
			return err
		}
		out := map[string]any{"unit": st.Action.Unit, "action": st.Action.Name, "status": res.Status, "results": res.Results}
		if res.Message != "" {
			out["message"] = res.Message
		}
		fmt.Fprint(w, marshalYAML(out))
	case st.Exec != nil:
		res, err := m.Exec(ctx, st.Exec.Unit, st.Exec.Command)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "$ juju-exec %s %q\n%s%s", st.Exec.Unit, st.Exec.Command, res.Stdout, res.Stderr)
		if res.Code != 0 {
			return fmt.Errorf("juju-exec on %s: exit status %d", st.Exec.Unit, res.Code)
		}
	case st.UpdateStatus:
		m.UpdateStatus()
	case st.AddUnit != "":
		_, err := m.AddUnit(ctx, st.AddUnit)
		return err
	case st.RemoveUnit != "":
		return m.RemoveUnit(ctx, st.RemoveUnit)
	case st.Leader != "":
		return m.SetLeader(ctx, st.Leader)
	case len(st.Integrate) == 2:
		_, err := m.Integrate(ctx, st.Integrate[0], st.Integrate[1])
		return err
	case st.RemoveRelation != nil:
		return m.RemoveRelation(ctx, *st.RemoveRelation)
	case st.Resolve != "":
		return m.Resolve(st.Resolve)
	case st.ShowUnit != "":
		out, err := m.ShowUnit(st.ShowUnit)
		if err != nil {
			return err
		}
		fmt.Fprint(w, out)
	case st.Status:
		fmt.Fprint(w, m.Status())
	default:
		return fmt.Errorf("empty step")
	}
	return nil
}
