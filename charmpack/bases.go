package charmpack

import (
	"fmt"
	"sort"
	"strings"
)

// Base is one base a charm runs on, as charmcraft.yaml declares it.
type Base struct {
	// Name and Channel are the OS and its release: ubuntu, 22.04.
	Name, Channel string
	// Arch is the architecture: amd64.
	Arch string
}

// String returns b as "ubuntu@22.04/amd64".
func (b Base) String() string { return b.Name + "@" + b.Channel + "/" + b.Arch }

// runOn returns the bases a unified charmcraft.yaml builds for, as
// charmcraft reads them: either a top-level base (ubuntu@24.04) with
// platforms naming architectures (shorthand `amd64:` or build-for
// [amd64]), or multi-base platforms (shorthand `ubuntu@22.04:amd64:` or
// build-for [ubuntu@22.04:amd64]) and no top-level base. The manifest of
// the packed charm lists exactly these, so the bases a charm declares and
// the bases Juju sees cannot drift apart.
func runOn(raw map[string]any) ([]Base, error) {
	if _, ok := raw["bases"]; ok {
		return nil, fmt.Errorf("the bases key is not supported: use base and platforms")
	}
	top, _ := raw["base"].(string)
	platforms, ok := raw["platforms"].(map[string]any)
	if !ok || len(platforms) == 0 {
		return nil, fmt.Errorf("no platforms")
	}
	var out []Base
	seen := map[Base]bool{}
	for name, spec := range platforms {
		targets := []string{name}
		if m, ok := spec.(map[string]any); ok {
			list, _ := m["build-for"].([]any)
			targets = targets[:0]
			for _, t := range list {
				s, _ := t.(string)
				targets = append(targets, s)
			}
			if len(targets) == 0 {
				return nil, fmt.Errorf("platform %s: no build-for", name)
			}
		} else if spec != nil {
			return nil, fmt.Errorf("platform %s: not a mapping", name)
		}
		for _, t := range targets {
			b, err := parseTarget(t, top)
			if err != nil {
				return nil, fmt.Errorf("platform %s: %w", name, err)
			}
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// parseTarget reads "ubuntu@22.04:amd64" (multi-base, no top-level base)
// or "amd64" (with the top-level base).
func parseTarget(t, top string) (Base, error) {
	baseText, arch, multi := strings.Cut(t, ":")
	if !multi {
		baseText, arch = top, t
		if top == "" {
			return Base{}, fmt.Errorf("%q names no base and there is no top-level base", t)
		}
	} else if top != "" {
		return Base{}, fmt.Errorf("%q names a base beside the top-level base %s", t, top)
	}
	name, channel, ok := strings.Cut(baseText, "@")
	if !ok || name == "" || channel == "" || arch == "" {
		return Base{}, fmt.Errorf("%q is not <name>@<channel>:<arch>", t)
	}
	return Base{Name: name, Channel: channel, Arch: arch}, nil
}
