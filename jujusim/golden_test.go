package jujusim_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// toolCases are the hook tool calls whose output the golden files pin, in
// the formats our charms (through goops) and shell charms use. Each runs
// with juju-exec on the unit named first.
var toolCases = map[string][]string{
	"relation-ids": {
		"a/0 relation-ids db", "a/0 relation-ids db --format=json", "a/0 relation-ids cluster --format=yaml",
		"a/0 relation-ids backend --format=json", "a/0 relation-ids nope",
	},
	"relation-list": {
		"a/0 relation-list -r 2", "a/0 relation-list -r=db:2 --format=json", "a/0 relation-list -r 2 --app --format=json",
		"a/0 relation-list -r 0 --format=json", "a/0 relation-list -r 9",
	},
	"relation-get": {
		"b/0 relation-get -r 2 - a/0", "b/0 relation-get -r=2 - a/0 --format=json", "b/0 relation-get -r 2 host a/0",
		"b/0 relation-get -r 2 missing a/0 --format=json", "b/0 relation-get -r=2 - a --app --format=json",
		"b/0 relation-get -r 2 --app token a", "a/0 relation-get -r 2 - a --app --format=json",
		"a/1 relation-get -r 2 - a --app --format=json", "b/0 relation-get -r 2 - a/0 --format=yaml",
		"b/0 relation-get -r 2 - x/9",
	},
	"relation-set": {
		"a/1 relation-set -r 2 --app k=v", "a/1 relation-set -r 2 k=v --format=json", "a/1 relation-set -r 2 notkv",
		"a/1 relation-set k=v", "a/1 relation-set -r 2 --bogus k=v",
		"a/1 printf 'f1: v1\\nf2: v2\\n' | relation-set -r 2 --file - f2=over && relation-get -r 2 - a/1 --format=json",
		"a/1 printf 'just text' | relation-set -r 2 --file -",
	},
	"juju-log":  {"a/0 juju-log --log-level=INFO hello world", "a/0 juju-log -l WARNING careful", "a/0 juju-log"},
	"state-set": {"a/1 state-set x=1 && state-get x", "a/1 state-set novalue", "a/1 printf 'y: 2\\n' | state-set --file - && state-get --format=json"},
	"config-get": {
		"a/0 config-get --all --format=json", "a/0 config-get --format=json", "a/0 config-get", "a/0 config-get port",
		"a/0 config-get port --format=json", "a/0 config-get debug", "a/0 config-get ratio --format=json",
	},
	"is-leader":  {"a/0 is-leader", "a/0 is-leader --format=json", "a/1 is-leader --format=json", "a/1 is-leader"},
	"status-get": {"a/0 status-get", "a/0 status-get --include-data --format=json", "a/0 status-get --application --include-data --format=json", "a/1 status-get --application --format=json"},
	"status-set": {"a/1 status-set active", "a/1 status-set unknown", "a/1 status-set --application active"},
	"state-get": {
		"a/0 state-get --format=json", "a/0 state-get one --format=json", "a/0 state-get missing --format=json",
		"a/0 state-get missing --strict", "a/0 state-get",
	},
	"secret-get": {
		"b/0 secret-get SECRET --format=json", "b/0 secret-get SECRET password", "a/0 secret-get --label=creds --format=json",
		"a/1 secret-get SECRET --format=json", "b/0 secret-get secret:nope --format=json",
	},
	"secret-info-get": {"a/0 secret-info-get SECRET --format=json", "a/0 secret-info-get --label=creds --format=json"},
	"secret-ids":      {"a/0 secret-ids --format=json", "b/0 secret-ids --format=json"},
	"secret-add":      {"a/1 secret-add password=x", "a/1 secret-add --owner=unit x=y", "a/1 secret-add --owner=unit nope"},
	"unit-get":        {"a/1 unit-get private-address --format=json", "a/1 unit-get public-address"},
}

var (
	secretURI = regexp.MustCompile(`secret:[0-9a-v]{20}|\b[0-9a-v]{20}\b`)
	modelUUID = regexp.MustCompile(`[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}`)
)

func TestToolOutputGolden(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.deploy("b", 1)
	id := p.integrate("a:db", "b:backend")
	p.settle()
	if id != 2 {
		t.Fatalf("relation id %d, want 2", id)
	}
	p.exec("a/0", "relation-set -r 2 --app token=abc endpoints=h0:5432,h1:5432 && relation-set -r 2 host=h0 && status-set active ready && status-set --application blocked 'needs s3' && state-set one=1 two=2")
	p.exec("b/0", "relation-set -r 2 want=db1")
	uri := p.exec("a/0", "secret-add --label creds password=s3cr3t user=admin")
	p.exec("a/0", "secret-grant "+uri+" -r 2")
	for _, tool := range slices.Sorted(maps.Keys(toolCases)) {
		cmds := toolCases[tool]
		var b strings.Builder
		for _, c := range cmds {
			unit, cmd, _ := strings.Cut(c, " ")
			cmd = strings.ReplaceAll(cmd, "SECRET", uri)
			res, err := p.m.Exec(p.ctx, unit, cmd)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "$ %s  # on %s\n%s", strings.ReplaceAll(c[len(unit)+1:], uri, "SECRET"), unit, res.Stdout)
			if res.Stderr != "" {
				fmt.Fprintf(&b, "[stderr] %s", res.Stderr)
				if !strings.HasSuffix(res.Stderr, "\n") {
					b.WriteString("\n")
				}
			}
			fmt.Fprintf(&b, "[exit %d]\n\n", res.Code)
		}
		got := secretURI.ReplaceAllString(b.String(), "SECRET")
		got = modelUUID.ReplaceAllString(got, "MODEL-UUID")
		path := filepath.Join("testdata", "golden", tool+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestToolOutputGolden -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s output changed:\n--- got\n%s\n--- want\n%s", tool, got, want)
		}
	}
}

// exec runs a command on unit with juju-exec semantics and returns its
// trimmed stdout, failing the test on a non-zero exit.
func (p *probe) exec(unit, cmd string) string {
	p.t.Helper()
	res, err := p.m.Exec(p.ctx, unit, cmd)
	if err != nil || res.Code != 0 {
		p.t.Fatalf("exec %s on %s: %v %+v", cmd, unit, err, res)
	}
	return strings.TrimSpace(res.Stdout)
}
