package jujusim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Charm is a charm to deploy: its folder and, for a compiled charm, the
// built binary that becomes its dispatch file.
type Charm struct {
	// Dir holds charmcraft.yaml, or metadata.yaml with optional
	// actions.yaml and config.yaml. When Binary is empty Dir must hold an
	// executable dispatch file (a shell charm, say).
	Dir string
	// Binary is the built charm binary, installed as dispatch.
	Binary string
}

// Endpoint is one relation endpoint of a charm.
type Endpoint struct {
	Name      string
	Role      string // provider, requirer or peer
	Interface string `yaml:"interface"`
	Scope     string `yaml:"scope"` // global or container
	Limit     int    `yaml:"limit"`
}

// ConfigOption is one config option: its type (string, int, float,
// boolean, secret) and default.
type ConfigOption struct {
	Type        string `yaml:"type"`
	Default     any    `yaml:"default"`
	Description string `yaml:"description"`
}

// ActionSpec is one action with its JSON schema parameters.
type ActionSpec struct {
	Description          string         `yaml:"description"`
	Params               map[string]any `yaml:"params"`
	Required             []string       `yaml:"required"`
	AdditionalProperties *bool          `yaml:"additionalProperties"`
}

// Meta is what jujusim reads of a charm's metadata.
type Meta struct {
	Name        string
	Subordinate bool
	Endpoints   map[string]Endpoint
	Config      map[string]ConfigOption
	Actions     map[string]ActionSpec
	// raw sections, written back as metadata.yaml, config.yaml and
	// actions.yaml in the unit's charm folder as charmcraft pack does.
	rawMeta, rawConfig, rawActions map[string]any
}

type metaFile struct {
	Name        string              `yaml:"name"`
	Subordinate bool                `yaml:"subordinate"`
	Provides    map[string]Endpoint `yaml:"provides"`
	Requires    map[string]Endpoint `yaml:"requires"`
	Peers       map[string]Endpoint `yaml:"peers"`
}

type configFile struct {
	Options map[string]ConfigOption `yaml:"options"`
}

// ReadMeta reads the charm metadata in dir: charmcraft.yaml, or
// metadata.yaml with actions.yaml and config.yaml beside it.
func ReadMeta(dir string) (*Meta, error) {
	raw := map[string]any{}
	if err := readYAML(filepath.Join(dir, "charmcraft.yaml"), &raw); err != nil {
		return nil, err
	}
	if _, ok := raw["name"]; !ok || raw["provides"] == nil && raw["requires"] == nil && raw["peers"] == nil {
		// Old style: metadata.yaml carries the name and endpoints.
		md := map[string]any{}
		if err := readYAML(filepath.Join(dir, "metadata.yaml"), &md); err != nil {
			return nil, err
		}
		for k, v := range md {
			raw[k] = v
		}
	}
	if raw["name"] == nil {
		return nil, fmt.Errorf("cannot read charm in %s: no name in charmcraft.yaml or metadata.yaml", dir)
	}
	if raw["actions"] == nil {
		a := map[string]any{}
		if err := readYAML(filepath.Join(dir, "actions.yaml"), &a); err != nil {
			return nil, err
		}
		if len(a) > 0 {
			raw["actions"] = a
		}
	}
	if raw["config"] == nil {
		c := map[string]any{}
		if err := readYAML(filepath.Join(dir, "config.yaml"), &c); err != nil {
			return nil, err
		}
		if len(c) > 0 {
			raw["config"] = c
		}
	}
	return parseMeta(raw)
}

func readYAML(path string, into *map[string]any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read charm file: %w", err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("cannot parse %s: %w", path, err)
	}
	return nil
}

func parseMeta(raw map[string]any) (*Meta, error) {
	m := &Meta{Endpoints: map[string]Endpoint{}, Config: map[string]ConfigOption{}, Actions: map[string]ActionSpec{}}
	var mf metaFile
	if err := remarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("cannot parse charm metadata: %w", err)
	}
	m.Name, m.Subordinate = mf.Name, mf.Subordinate
	for role, eps := range map[string]map[string]Endpoint{"provider": mf.Provides, "requirer": mf.Requires, "peer": mf.Peers} {
		for name, ep := range eps {
			if _, dup := m.Endpoints[name]; dup {
				return nil, fmt.Errorf("cannot parse charm %s: endpoint %q defined twice", m.Name, name)
			}
			ep.Name, ep.Role = name, role
			if ep.Scope == "" {
				ep.Scope = "global"
			}
			m.Endpoints[name] = ep
		}
	}
	if _, ok := m.Endpoints["juju-info"]; !ok && !m.Subordinate {
		m.Endpoints["juju-info"] = Endpoint{Name: "juju-info", Role: "provider", Interface: "juju-info", Scope: "global"}
	}
	var cf configFile
	if err := remarshal(raw["config"], &cf); err != nil {
		return nil, fmt.Errorf("cannot parse charm %s config: %w", m.Name, err)
	}
	for name, o := range cf.Options {
		switch o.Type {
		case "string", "int", "float", "boolean", "secret":
		default:
			return nil, fmt.Errorf("cannot parse charm %s: option %q has unknown type %q", m.Name, name, o.Type)
		}
		m.Config[name] = o
	}
	if err := remarshal(raw["actions"], &m.Actions); err != nil {
		return nil, fmt.Errorf("cannot parse charm %s actions: %w", m.Name, err)
	}
	m.rawMeta = map[string]any{}
	for k, v := range raw {
		switch k {
		case "config":
			m.rawConfig, _ = v.(map[string]any)
		case "actions":
			m.rawActions, _ = v.(map[string]any)
		case "type", "base", "bases", "build-base", "platforms", "parts", "charmhub":
		default:
			m.rawMeta[k] = v
		}
	}
	return m, nil
}

func remarshal(in, out any) error {
	if in == nil {
		return nil
	}
	b, err := yaml.Marshal(in)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, out)
}

// install lays out the charm folder of one unit: metadata.yaml,
// config.yaml, actions.yaml as charmcraft pack writes them, and dispatch.
func (m *Meta) install(c Charm, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create charm folder: %w", err)
	}
	files := map[string]any{"metadata.yaml": m.rawMeta}
	if m.rawConfig != nil {
		files["config.yaml"] = m.rawConfig
	}
	if m.rawActions != nil {
		files["actions.yaml"] = m.rawActions
	}
	for name, v := range files {
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %w", name, err)
		}
	}
	bin := c.Binary
	if bin == "" {
		bin = filepath.Join(c.Dir, "dispatch")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return fmt.Errorf("cannot find dispatch: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("cannot install dispatch: %w", err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "dispatch")); err != nil {
		return fmt.Errorf("cannot install dispatch: %w", err)
	}
	return nil
}

var yamlUnmarshal = yaml.Unmarshal
