package jujucli

import (
	"fmt"
	"strings"
)

// Check checks one command line that starts with "juju" (a leading "$ "
// prompt and a trailing "# comment" are allowed) against the rules of its
// subcommand: a known subcommand, known flags with their values, and
// positional arguments of the right shape.
func Check(line string) error {
	words, err := Split(strings.TrimPrefix(strings.TrimSpace(line), "$ "))
	if err != nil {
		return fmt.Errorf("cannot split %q: %w", line, err)
	}
	if len(words) < 2 || words[0] != "juju" {
		return fmt.Errorf("%q is not a juju command with a subcommand", line)
	}
	cmd, ok := commands[words[1]]
	if !ok {
		return fmt.Errorf("juju %s: unknown subcommand", words[1])
	}
	var args []string
	vals := map[string][]string{}
	rest := words[2:]
	for i := 0; i < len(rest); i++ {
		w := rest[i]
		if w == "--" {
			args = append(args, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(w, "-") || w == "-" {
			args = append(args, w)
			continue
		}
		name, value, hasValue := strings.Cut(w, "=")
		takes, known := cmd.flags[name]
		if !known {
			takes, known = global[name]
		}
		if !known {
			return fmt.Errorf("juju %s: unknown flag %s", words[1], name)
		}
		switch {
		case takes && !hasValue:
			if i+1 == len(rest) {
				return fmt.Errorf("juju %s: flag %s needs a value", words[1], name)
			}
			i++
			value = rest[i]
		case !takes && hasValue:
			return fmt.Errorf("juju %s: flag %s takes no value", words[1], name)
		}
		vals[name] = append(vals[name], value)
	}
	if err := cmd.args(args, vals); err != nil {
		return fmt.Errorf("juju %s: %w", words[1], err)
	}
	return nil
}

// Known reports whether juju's subcommand sub is one Check knows.
func Known(sub string) bool {
	_, ok := commands[sub]
	return ok
}
