package jujusim

import (
	"context"
	"fmt"
	"maps"
	"strconv"
)

// Config sets config options of application name from strings, as
// `juju config APP key=value` does: each value is parsed by its option's
// type; an empty value resets the option to its default. Units get
// config-changed when a value changed.
func (m *Model) Config(ctx context.Context, name string, values map[string]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.apps[name]
	if !ok {
		return fmt.Errorf("cannot set config: application %q not found", name)
	}
	next := maps.Clone(a.config)
	for _, k := range sortedKeys(values) {
		o, ok := a.meta.Config[k]
		if !ok {
			return fmt.Errorf("cannot set config of %s: unknown option %q", name, k)
		}
		if values[k] == "" && o.Type != "string" {
			if o.Default == nil {
				delete(next, k)
			} else {
				next[k] = o.Default
			}
			continue
		}
		v, err := parseOption(o.Type, values[k])
		if err != nil {
			return fmt.Errorf("cannot set config of %s: option %q: %w", name, k, err)
		}
		next[k] = v
	}
	if maps.EqualFunc(next, a.config, func(x, y any) bool { return fmt.Sprint(x) == fmt.Sprint(y) }) {
		return nil
	}
	a.config = next
	m.record("", "model", "config %s: %s", name, logConfig(values))
	for _, n := range a.units {
		if u := m.units[n]; !u.dying {
			m.enqueue(u, &event{kind: "config-changed"})
		}
	}
	return nil
}

func logConfig(values map[string]string) string {
	p := map[string]any{}
	for k, v := range values {
		p[k] = v
	}
	return logParams(p)
}

func parseOption(typ, s string) (any, error) {
	switch typ {
	case "int":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("expected int, got %q", s)
		}
		return v, nil
	case "float":
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("expected float, got %q", s)
		}
		return v, nil
	case "boolean":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("expected boolean, got %q", s)
		}
		return v, nil
	}
	return s, nil
}
