package jujusim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// formatValue renders v as Juju's cmd.Output does: smart (strings as they
// are, lists a line an item, booleans True/False, maps as YAML), json
// (json.Marshal) or yaml; a non-empty result ends with a newline.
func formatValue(format string, v any) ([]byte, error) {
	var out []byte
	switch format {
	case "json":
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("cannot format json: %w", err)
		}
		out = b
	case "yaml":
		if v == nil {
			return nil, nil
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("cannot format yaml: %w", err)
		}
		out = b
	default:
		var err error
		if out, err = formatSmart(v); err != nil {
			return nil, err
		}
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out, nil
}

func formatSmart(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return []byte(rv.String()), nil
	case reflect.Bool:
		if rv.Bool() {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case reflect.Int, reflect.Int64, reflect.Float64:
		return []byte(fmt.Sprint(v)), nil
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.String {
			return []byte(strings.Join(v.([]string), "\n")), nil
		}
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot format yaml: %w", err)
	}
	return b, nil
}
