package jujusim_test

import (
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/jujusim"
)

func TestModelOperationErrors(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.deploy("b", 1)
	if err := p.m.Deploy(p.ctx, "sub", jujusim.Charm{Dir: "testdata/sub"}, 0); err != nil {
		t.Fatal(err)
	}
	p.integrate("a:db", "b:backend")
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{"deploy twice", p.m.Deploy(p.ctx, "a", jujusim.Charm{Dir: "testdata/probe"}, 1), "application already exists"},
		{"deploy missing charm", p.m.Deploy(p.ctx, "x", jujusim.Charm{Dir: "testdata/nope"}, 1), "no name"},
		{"subordinate with units", p.m.Deploy(p.ctx, "s2", jujusim.Charm{Dir: "testdata/sub"}, 1), "without units"},
		{"ambiguous", second(p.m.Integrate(p.ctx, "a", "b")), "ambiguous relation"},
		{"interfaces differ", second(p.m.Integrate(p.ctx, "a:db", "b:cluster")), "no matching endpoints"},
		{"peer endpoints", second(p.m.Integrate(p.ctx, "a:cluster", "b:cluster")), "no matching endpoints"},
		{"unknown app", second(p.m.Integrate(p.ctx, "zz:db", "b:backend")), `application "zz" not found`},
		{"unknown endpoint", second(p.m.Integrate(p.ctx, "a:nope", "b:backend")), `has no endpoint "nope"`},
		{"already related", second(p.m.Integrate(p.ctx, "b:backend", "a:db")), "already exists"},
		{"remove peer relation", p.m.RemoveRelation(p.ctx, 0), "relation not found"},
		{"remove missing unit", p.m.RemoveUnit(p.ctx, "a/9"), "not found"},
		{"add unit to subordinate", second(p.m.AddUnit(p.ctx, "sub")), "subordinate units come with their principal"},
		{"resolve a healthy unit", p.m.Resolve("a/0"), "not in error"},
		{"action before install", second(p.m.RunAction(p.ctx, "a/0", "run", map[string]any{"what": "x"})), "not installed yet"},
		{"exec on missing unit", second(p.m.Exec(p.ctx, "q/0", "true")), "not found"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.wantErr) {
			t.Errorf("%s: err %v, want %q", tt.name, tt.err, tt.wantErr)
		}
	}
}

func TestPeerAppDataReadableByAllUnits(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.settle()
	p.exec("a/0", "relation-set -r 0 --app shared=yes")
	if got := p.exec("a/1", "relation-get -r 0 --app shared a"); got != "yes" {
		t.Errorf("non-leader read of peer app data %q", got)
	}
	if got := strings.Count(strings.Join(p.m.Hooks("a/1"), ","), "cluster-relation-changed"); got != 1 {
		t.Fatalf("before settle: %d", got)
	}
	p.settle()
	if got := strings.Count(strings.Join(p.m.Hooks("a/1"), ","), "cluster-relation-changed"); got != 2 {
		t.Errorf("peer app data change fired %d relation-changed on a/1 in all, want 2", got)
	}
}

func second[T any](_ T, err error) error { return err }
