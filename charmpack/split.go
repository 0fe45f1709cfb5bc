// Package charmpack builds the .charm archive Juju deploys from a charm
// folder with a unified charmcraft.yaml and a built charm binary, without
// charmcraft: metadata.yaml, actions.yaml, config.yaml, manifest.yaml and
// dispatch (the binary, mode 0755), as charmcraft pack writes them. Check
// opens an archive as Juju's archive reader would.
package charmpack

import (
	"fmt"
	"path"

	"go.yaml.in/yaml/v3"
)

// Files are the YAML files of a charm archive, split from one unified
// charmcraft.yaml.
type Files struct {
	// Name is the charm's name.
	Name string
	// Metadata, Actions and Config are metadata.yaml, actions.yaml and
	// config.yaml; Actions and Config are nil when the charm has none.
	Metadata, Actions, Config []byte
	// Bases are the bases charmcraft.yaml declares (base and
	// platforms), which the manifest lists.
	Bases []Base
	// Source is parts.charm.source: where the charm's Go main package
	// is, relative to the charm folder ("" when not set).
	Source string
}

// buildKeys are the charmcraft.yaml keys that only tell charmcraft how to
// build; they are not part of metadata.yaml.
var buildKeys = map[string]bool{
	"type": true, "base": true, "bases": true, "build-base": true, "platforms": true,
	"parts": true, "charmhub": true, "analysis": true, "actions": true, "config": true,
	"charm-libs": true, "title": true,
}

// Split splits a unified charmcraft.yaml into metadata.yaml, actions.yaml
// and config.yaml as charmcraft pack does: everything but the build keys
// goes to metadata.yaml (assumes included), with title written as
// display-name. It reads the bases from base and platforms.
func Split(charmcraft []byte) (Files, error) {
	raw := map[string]any{}
	if err := yaml.Unmarshal(charmcraft, &raw); err != nil {
		return Files{}, fmt.Errorf("cannot parse charmcraft.yaml: %w", err)
	}
	name, _ := raw["name"].(string)
	if name == "" {
		return Files{}, fmt.Errorf("cannot split charmcraft.yaml: no name (not a unified charmcraft.yaml)")
	}
	if t, _ := raw["type"].(string); t != "" && t != "charm" {
		return Files{}, fmt.Errorf("cannot split charmcraft.yaml of %s: type %q is not charm", name, t)
	}
	meta := map[string]any{}
	for k, v := range raw {
		if !buildKeys[k] {
			meta[k] = v
		}
	}
	if title, ok := raw["title"].(string); ok && title != "" {
		meta["display-name"] = title
	}
	bases, err := runOn(raw)
	if err != nil {
		return Files{}, fmt.Errorf("cannot read the bases of %s: %w", name, err)
	}
	f := Files{Name: name, Source: partSource(raw), Bases: bases}
	if f.Metadata, err = yaml.Marshal(meta); err != nil {
		return Files{}, fmt.Errorf("cannot write metadata.yaml of %s: %w", name, err)
	}
	if a, ok := raw["actions"]; ok && a != nil {
		if f.Actions, err = yaml.Marshal(a); err != nil {
			return Files{}, fmt.Errorf("cannot write actions.yaml of %s: %w", name, err)
		}
	}
	if c, ok := raw["config"]; ok && c != nil {
		if f.Config, err = yaml.Marshal(c); err != nil {
			return Files{}, fmt.Errorf("cannot write config.yaml of %s: %w", name, err)
		}
	}
	return f, nil
}

// partSource returns where parts.charm builds from, relative to the
// charm folder: its source joined with its source-subdir (the layout of a
// charm in a monorepo, where source names the repository's root), or "".
func partSource(raw map[string]any) string {
	parts, _ := raw["parts"].(map[string]any)
	charm, _ := parts["charm"].(map[string]any)
	s, _ := charm["source"].(string)
	if sub, _ := charm["source-subdir"].(string); sub != "" {
		return path.Join(s, sub)
	}
	return s
}
