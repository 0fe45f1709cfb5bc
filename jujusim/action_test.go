package jujusim_test

import (
	"reflect"
	"strings"
	"testing"
)

func TestActionParamsCheckedAgainstSchema(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.settle()
	p.script("run", `action-get --format=json > $OUT/params
action-set result.what="$(action-get what)" count="$(action-get count)"
action-log "working"
`)
	tests := []struct {
		name    string
		params  map[string]any
		wantErr string
	}{
		{"missing required", map[string]any{}, "invalid parameters: missing property 'what'"},
		{"wrong type", map[string]any{"what": "x", "count": "two"}, "invalid parameters: count: got string, want integer"},
		{"unknown param", map[string]any{"what": "x", "colour": "red"}, "invalid parameters: additional properties 'colour' not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.m.RunAction(p.ctx, "a/0", "run", tt.params)
			if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want it to name %q", err, tt.wantErr)
			}
		})
	}
	res, err := p.m.RunAction(p.ctx, "a/0", "run", map[string]any{"what": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.out("params"), `{"count":1,"what":"backup"}`; got != want {
		t.Errorf("action-get %s, want %s (defaults filled)", got, want)
	}
	want := map[string]any{"result": map[string]any{"what": "backup"}, "count": "1"}
	if res.Status != "completed" || !reflect.DeepEqual(res.Results, want) {
		t.Errorf("result %+v, want results %v only", res, want)
	}
	if !reflect.DeepEqual(res.Log, []string{"working"}) {
		t.Errorf("log %q", res.Log)
	}
	if _, err := p.m.RunAction(p.ctx, "a/0", "nope", nil); err == nil {
		t.Error("undefined action ran")
	}
}

func TestActionFailureDoesNotPutUnitInError(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.settle()
	p.script("run", `action-set partial=yes
action-set stdout=no 2> $OUT/reserved
action-set Bad=no 2> $OUT/badkey
action-fail "disk full"
`)
	res, err := p.m.RunAction(p.ctx, "a/0", "run", map[string]any{"what": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" || res.Message != "disk full" || !reflect.DeepEqual(res.Results, map[string]any{"partial": "yes"}) {
		t.Errorf("result %+v", res)
	}
	if got := p.out("reserved"); got != `ERROR cannot set reserved action key "stdout"` {
		t.Errorf("reserved key: %q", got)
	}
	if got := p.out("badkey"); !strings.Contains(got, `key "Bad" must start and end with lowercase alphanumeric`) {
		t.Errorf("bad key: %q", got)
	}
	p.script("run", "exit 3\n")
	res, err = p.m.RunAction(p.ctx, "a/0", "run", map[string]any{"what": "x"})
	if err != nil || res.Status != "failed" || res.Message != "exit status 3" {
		t.Errorf("exit 3: %+v %v", res, err)
	}
	if st, _ := p.m.UnitStatus("a/0"); st == "error" {
		t.Error("a failed action put the unit in error")
	}
}

func TestConfigTypesAndChanges(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.script("config-changed", `config-get --format=json > $OUT/json
config-get --all --format=json > $OUT/all
config-get port > $OUT/port
config-get debug > $OUT/debug
`)
	p.settle()
	if got, want := p.out("json"), `{"debug":false,"name":"probe","port":5432}`; got != want {
		t.Errorf("config-get json %s, want %s", got, want)
	}
	if got, want := p.out("all"), `{"debug":false,"name":"probe","port":5432,"ratio":null}`; got != want {
		t.Errorf("config-get --all %s, want %s", got, want)
	}
	if p.out("port") != "5432" || p.out("debug") != "False" {
		t.Errorf("smart: port %q debug %q", p.out("port"), p.out("debug"))
	}
	tests := []struct {
		values  map[string]string
		wantErr string
	}{
		{map[string]string{"port": "x"}, `option "port": expected int, got "x"`},
		{map[string]string{"debug": "maybe"}, `expected boolean`},
		{map[string]string{"nope": "1"}, `unknown option "nope"`},
	}
	for _, tt := range tests {
		if err := p.m.Config(p.ctx, "a", tt.values); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Config(%v) = %v, want %q", tt.values, err, tt.wantErr)
		}
	}
	n := len(p.m.Hooks("a/0"))
	if err := p.m.Config(p.ctx, "a", map[string]string{"port": "5432"}); err != nil {
		t.Fatal(err)
	}
	if got := p.m.Pending("a/0"); len(got) != 0 {
		t.Errorf("unchanged config queued %v", got)
	}
	if err := p.m.Config(p.ctx, "a", map[string]string{"ratio": "0.5", "debug": "true"}); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if got := p.m.Hooks("a/0")[n:]; !equal(got, []string{"config-changed"}) {
		t.Errorf("hooks after config %v", got)
	}
	if got, want := p.out("json"), `{"debug":true,"name":"probe","port":5432,"ratio":0.5}`; got != want {
		t.Errorf("config-get json %s, want %s", got, want)
	}
}
