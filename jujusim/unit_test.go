package jujusim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	defs := []flagDef{formatFlag, relationFlag, appFlag, {names: []string{"file"}}}
	tests := []struct {
		args    []string
		flags   map[string]string
		pos     []string
		wantErr string
	}{
		{[]string{"-r", "db:1", "-", "a/0"}, map[string]string{"relation": "db:1", "format": "smart"}, []string{"-", "a/0"}, ""},
		{[]string{"-r=1", "--app", "--format=json", "k"}, map[string]string{"relation": "1", "app": "true", "format": "json"}, []string{"k"}, ""},
		{[]string{"--relation", "3", "--app=false"}, map[string]string{"relation": "3", "app": "false", "format": "smart"}, nil, ""},
		{[]string{"a=b", "--", "--app"}, map[string]string{"format": "smart"}, []string{"a=b", "--app"}, ""},
		{[]string{"--file", "-"}, map[string]string{"file": "-", "format": "smart"}, nil, ""},
		{[]string{"--nope"}, nil, nil, "flag provided but not defined: --nope"},
		{[]string{"-app"}, nil, nil, "flag provided but not defined: -app"},
		{[]string{"-r"}, nil, nil, "flag needs an argument: -r"},
		{[]string{"--format=xml"}, nil, nil, `unknown format "xml"`},
		{[]string{"--app=maybe"}, nil, nil, "parse error"},
	}
	for _, tt := range tests {
		p, err := parseArgs(tt.args, defs...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseArgs(%q) err %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseArgs(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(p.flags, tt.flags) || !reflect.DeepEqual(p.pos, tt.pos) {
			t.Errorf("parseArgs(%q) = %v %q, want %v %q", tt.args, p.flags, p.pos, tt.flags, tt.pos)
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		format string
		v      any
		want   string
	}{
		{"smart", nil, ""},
		{"json", nil, "null\n"},
		{"yaml", nil, ""},
		{"smart", "x", "x\n"},
		{"smart", "", ""},
		{"json", "", "\"\"\n"},
		{"smart", true, "True\n"},
		{"smart", false, "False\n"},
		{"json", true, "true\n"},
		{"smart", []string{"a:1", "a:2"}, "a:1\na:2\n"},
		{"smart", []string{}, ""},
		{"json", []string{}, "[]\n"},
		{"smart", map[string]string{"b": "2", "a": "1"}, "a: \"1\"\nb: \"2\"\n"},
		{"json", map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}` + "\n"},
		{"smart", int64(5432), "5432\n"},
	}
	for _, tt := range tests {
		got, err := formatValue(tt.format, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("formatValue(%s, %#v) = %q, %v; want %q", tt.format, tt.v, got, err, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{5, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		if got := backoff(i + 1); got != w*time.Second {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("-r\x00db:1\x00--app\x00-\x00a/0")
	f.Add("--format=json\x00--\x00--x")
	f.Add("--file\x00-\x00k=v")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		p, err := parseArgs(args, formatFlag, relationFlag, appFlag, flagDef{names: []string{"file"}})
		if err != nil {
			return
		}
		// Every positional argument is one of the inputs, in order.
		i := 0
		for _, a := range p.pos {
			for i < len(args) && args[i] != a {
				i++
			}
			if i == len(args) {
				t.Fatalf("positional %q not from %q", a, args)
			}
			i++
		}
	})
}

func FuzzReadMetaYAML(f *testing.F) {
	f.Add("name: x\nprovides:\n  db:\n    interface: pg\nconfig:\n  options:\n    a:\n      type: int\n      default: 1\n")
	f.Add("name: y\nactions:\n  run:\n    params:\n      a: {type: string}\n")
	f.Fuzz(func(t *testing.T, s string) {
		raw := map[string]any{}
		if err := yamlUnmarshal([]byte(s), &raw); err != nil {
			return
		}
		m, err := parseMeta(raw)
		if err != nil {
			return
		}
		for name, ep := range m.Endpoints {
			if ep.Name != name || ep.Scope == "" || ep.Role == "" {
				t.Fatalf("endpoint %q incomplete: %+v", name, ep)
			}
		}
	})
}
