package jujusim

import (
	"fmt"
	"strings"
)

// flagDef is one flag of a hook tool: its names (the first is canonical,
// one-letter names take one dash) and whether it takes no value.
type flagDef struct {
	names  []string
	isBool bool
}

var (
	formatFlag   = flagDef{names: []string{"format"}}
	outputFlag   = flagDef{names: []string{"output", "o"}}
	relationFlag = flagDef{names: []string{"relation", "r"}}
	appFlag      = flagDef{names: []string{"app"}, isBool: true}
)

// parsed is a parsed tool command line.
type parsed struct {
	flags map[string]string
	pos   []string
}

func (p *parsed) str(name string) string { return p.flags[name] }

func (p *parsed) has(name string) bool { _, ok := p.flags[name]; return ok }

func (p *parsed) boolean(name string) bool { v := p.flags[name]; return v == "true" }

// parseArgs parses args as gnuflag does for jujuc: flags and positional
// arguments may interleave; "--" ends flags; "-" is positional.
func parseArgs(args []string, defs ...flagDef) (*parsed, error) {
	byName := map[string]flagDef{}
	for _, d := range defs {
		for _, n := range d.names {
			byName[n] = d
		}
	}
	p := &parsed{flags: map[string]string{}}
	if _, ok := byName["format"]; ok {
		p.flags["format"] = "smart"
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.pos = append(p.pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			p.pos = append(p.pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		dashes := len(a) - len(name)
		name, val, hasVal := strings.Cut(name, "=")
		d, ok := byName[name]
		if !ok || dashes > 2 || (dashes == 1) != (len(name) == 1) {
			return nil, fmt.Errorf("flag provided but not defined: %s", a)
		}
		switch {
		case d.isBool && hasVal:
			if val != "true" && val != "false" {
				return nil, fmt.Errorf("invalid value %q for flag %s: parse error", val, a)
			}
		case d.isBool:
			val = "true"
		case !hasVal:
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			i++
			val = args[i]
		}
		p.flags[d.names[0]] = val
	}
	if f, ok := p.flags["format"]; ok && f != "smart" && f != "json" && f != "yaml" {
		return nil, fmt.Errorf("invalid value %q for flag --format: unknown format %q", f, f)
	}
	return p, nil
}
