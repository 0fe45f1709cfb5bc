package charmpack

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Endpoint is one relation endpoint of metadata.yaml.
type Endpoint struct {
	Interface string `yaml:"interface"`
	Scope     string `yaml:"scope,omitempty"`
	Limit     int    `yaml:"limit,omitempty"`
}

// Metadata is what Check reads of metadata.yaml.
type Metadata struct {
	Name        string `yaml:"name"`
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
	Subordinate bool   `yaml:"subordinate"`
	// Assumes are the charm's requirements of Juju ("juju >= 3.3").
	Assumes  []any               `yaml:"assumes"`
	Provides map[string]Endpoint `yaml:"provides"`
	Requires map[string]Endpoint `yaml:"requires"`
	Peers    map[string]Endpoint `yaml:"peers"`
}

// Option is one option of config.yaml.
type Option struct {
	Type        string `yaml:"type"`
	Default     any    `yaml:"default"`
	Description string `yaml:"description"`
}

// Contents is what Check found in a .charm archive.
type Contents struct {
	Metadata Metadata
	// Actions maps each action to its spec (description, params, ...).
	Actions map[string]map[string]any
	// Options are the config options.
	Options map[string]Option
	// Bases are the manifest's bases as "ubuntu@22.04/amd64".
	Bases []string
	// Modes maps each entry to its mode.
	Modes map[string]os.FileMode
}

// maxEntry bounds the size of one entry Check and Extract read.
const maxEntry = 512 << 20

// Check opens the .charm at path and checks it as Juju's archive reader
// does: entry names stay inside the charm folder, no symlinks or devices,
// metadata.yaml (with name, summary, description and well-formed
// endpoints), manifest.yaml (with bases) and an executable dispatch are
// there, and actions.yaml and config.yaml parse when present.
func Check(path string) (*Contents, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open charm: %w", err)
	}
	defer zr.Close()
	c := &Contents{Modes: map[string]os.FileMode{}}
	data := map[string][]byte{}
	for _, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, fmt.Errorf("cannot read charm %s: %w", path, err)
		}
		mode := f.Mode()
		if !mode.IsRegular() && !mode.IsDir() {
			return nil, fmt.Errorf("cannot read charm %s: %s is not a file or folder (%v)", path, f.Name, mode)
		}
		c.Modes[f.Name] = mode
		if f.Name == "dispatch" || !strings.HasSuffix(f.Name, ".yaml") || strings.Contains(f.Name, "/") {
			continue
		}
		b, err := readEntry(f)
		if err != nil {
			return nil, fmt.Errorf("cannot read charm %s: %w", path, err)
		}
		data[f.Name] = b
	}
	if err := c.parse(data); err != nil {
		return nil, fmt.Errorf("cannot read charm %s: %w", path, err)
	}
	if m, ok := c.Modes["dispatch"]; !ok || !m.IsRegular() {
		return nil, fmt.Errorf("cannot read charm %s: no dispatch file", path)
	} else if m.Perm()&0o111 != 0o111 {
		return nil, fmt.Errorf("cannot read charm %s: dispatch is not executable (%v)", path, m)
	}
	return c, nil
}

func (c *Contents) parse(data map[string][]byte) error {
	md, ok := data["metadata.yaml"]
	if !ok {
		return fmt.Errorf("no metadata.yaml")
	}
	if err := yaml.Unmarshal(md, &c.Metadata); err != nil {
		return fmt.Errorf("cannot parse metadata.yaml: %w", err)
	}
	m := c.Metadata
	if m.Name == "" || m.Summary == "" || m.Description == "" {
		return fmt.Errorf("metadata.yaml lacks name, summary or description")
	}
	seen := map[string]bool{}
	for _, eps := range []map[string]Endpoint{m.Provides, m.Requires, m.Peers} {
		for name, ep := range eps {
			if seen[name] {
				return fmt.Errorf("metadata.yaml: endpoint %q defined twice", name)
			}
			seen[name] = true
			if ep.Interface == "" || ep.Scope != "" && ep.Scope != "global" && ep.Scope != "container" {
				return fmt.Errorf("metadata.yaml: endpoint %q needs an interface and a global or container scope", name)
			}
		}
	}
	var man manifest
	if err := yaml.Unmarshal(data["manifest.yaml"], &man); err != nil {
		return fmt.Errorf("cannot parse manifest.yaml: %w", err)
	}
	for _, b := range man.Bases {
		for _, a := range b.Architectures {
			c.Bases = append(c.Bases, b.Name+"@"+b.Channel+"/"+a)
		}
	}
	if len(c.Bases) == 0 {
		return fmt.Errorf("no bases in manifest.yaml")
	}
	if err := yaml.Unmarshal(data["actions.yaml"], &c.Actions); err != nil {
		return fmt.Errorf("cannot parse actions.yaml: %w", err)
	}
	var cfg struct {
		Options map[string]Option `yaml:"options"`
	}
	if err := yaml.Unmarshal(data["config.yaml"], &cfg); err != nil {
		return fmt.Errorf("cannot parse config.yaml: %w", err)
	}
	c.Options = cfg.Options
	for name, o := range c.Options {
		switch o.Type {
		case "string", "int", "float", "boolean", "secret":
		default:
			return fmt.Errorf("config.yaml: option %q has unknown type %q", name, o.Type)
		}
	}
	return nil
}

// checkName refuses entry names that would land outside the charm folder.
func checkName(name string) error {
	clean := path.Clean(strings.TrimSuffix(name, "/"))
	if name == "" || strings.Contains(name, `\`) || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || clean != strings.TrimSuffix(name, "/") {
		return fmt.Errorf("entry %q escapes the charm folder", name)
	}
	return nil
}

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > maxEntry {
		return nil, fmt.Errorf("entry %s is too large", f.Name)
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", f.Name, err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, maxEntry+1)); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", f.Name, err)
	}
	if buf.Len() > maxEntry {
		return nil, fmt.Errorf("entry %s is too large", f.Name)
	}
	return buf.Bytes(), nil
}

// Extract checks the .charm at path (see Check) and unpacks it into dir,
// keeping each file's permission bits.
func Extract(path, dir string) error {
	if _, err := Check(path); err != nil {
		return err
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("cannot open charm: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if f.Mode().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("cannot unpack charm: %w", err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("cannot unpack charm: %w", err)
		}
		b, err := readEntry(f)
		if err != nil {
			return fmt.Errorf("cannot unpack charm: %w", err)
		}
		if err := os.WriteFile(dst, b, f.Mode().Perm()); err != nil {
			return fmt.Errorf("cannot unpack charm: %w", err)
		}
	}
	return nil
}
