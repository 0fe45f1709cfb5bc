package jujusim_test

import (
	"strings"
	"testing"
)

func TestHookOrder(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.deploy("b", 1)
	p.settle()
	id := p.integrate("a:db", "b:backend")
	p.settle()
	p.script("departed", `echo "$JUJU_REMOTE_UNIT $JUJU_DEPARTING_UNIT [$(echo $(relation-list))]" >> $OUT/departed-$JUJU_MACHINE_ID
`)
	if err := p.m.RemoveRelation(p.ctx, id); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if err := p.m.RemoveUnit(p.ctx, "a/0"); err != nil {
		t.Fatal(err)
	}
	p.settle()
	tests := []struct {
		unit string
		want []string
	}{
		{"a/0", []string{
			"install", "cluster-relation-created", "leader-elected", "config-changed", "start",
			"cluster-relation-joined", "cluster-relation-changed",
			"db-relation-created", "db-relation-joined", "db-relation-changed",
			"db-relation-departed", "db-relation-broken",
			"cluster-relation-departed", "cluster-relation-broken", "stop", "remove",
		}},
		{"a/1", []string{
			"install", "cluster-relation-created", "config-changed", "start",
			"cluster-relation-joined", "cluster-relation-changed",
			"db-relation-created", "db-relation-joined", "db-relation-changed",
			"db-relation-departed", "db-relation-broken",
			"cluster-relation-departed", "leader-elected",
		}},
		{"b/0", []string{
			"install", "cluster-relation-created", "leader-elected", "config-changed", "start",
			"backend-relation-created", "backend-relation-joined", "backend-relation-changed",
			"backend-relation-joined", "backend-relation-changed",
			"backend-relation-departed", "backend-relation-departed", "backend-relation-broken",
		}},
	}
	for _, tt := range tests {
		if got := p.m.Hooks(tt.unit); !equal(got, tt.want) {
			t.Errorf("%s hooks:\n got %q\nwant %q", tt.unit, got, tt.want)
		}
	}
	departed := []struct{ machine, want string }{
		{"2", "a/0 a/0 [a/1]\na/1 a/1 []"}, // b/0 as the relation goes
		{"1", "b/0 b/0 []\na/0 a/0 []"},    // a/1: the relation, then a/0 leaving
	}
	for _, d := range departed {
		if got := p.out("departed-" + d.machine); got != d.want {
			t.Errorf("machine %s departed (remote, departing, relation-list):\n%s\nwant\n%s", d.machine, got, d.want)
		}
	}
	if got := p.m.Leader("a"); got != "a/1" {
		t.Errorf("leader %q after removing a/0, want a/1", got)
	}
	if got := p.m.Units("a"); !equal(got, []string{"a/1"}) {
		t.Errorf("units %v", got)
	}
}

func TestRelationHookEnvironment(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.deploy("b", 1)
	p.script("b.backend-relation-joined", `env | grep -E '^JUJU_(RELATION|RELATION_ID|REMOTE_UNIT|REMOTE_APP|HOOK_NAME|DISPATCH_PATH|UNIT_NAME|MODEL_NAME|VERSION)=' | sort > $OUT/env
relation-list > $OUT/list
`)
	p.integrate("a:db", "b")
	p.settle()
	want := `JUJU_DISPATCH_PATH=hooks/backend-relation-joined
JUJU_HOOK_NAME=backend-relation-joined
JUJU_MODEL_NAME=test
JUJU_RELATION=backend
JUJU_RELATION_ID=backend:2
JUJU_REMOTE_APP=a
JUJU_REMOTE_UNIT=a/0
JUJU_UNIT_NAME=b/0
JUJU_VERSION=3.6.0`
	if got := p.out("env"); got != want {
		t.Errorf("env:\n%s\nwant:\n%s", got, want)
	}
	if got := p.out("list"); got != "a/0" {
		t.Errorf("relation-list in joined: %q", got)
	}
}

func TestSubordinateUnitsFollowPrincipals(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	if err := p.m.Deploy(p.ctx, "sub", jujusimCharm("testdata/sub"), 0); err != nil {
		t.Fatal(err)
	}
	p.script("sub.info-relation-changed", `relation-list > $OUT/list-$JUJU_MACHINE_ID
echo $JUJU_PRINCIPAL_UNIT > $OUT/principal-$JUJU_MACHINE_ID
`)
	p.integrate("sub", "a")
	p.settle()
	if got := p.m.Units("sub"); !equal(got, []string{"sub/0", "sub/1"}) {
		t.Fatalf("subordinate units %v", got)
	}
	for _, mach := range []string{"0", "1"} {
		if got, want := p.out("list-"+mach), "a/"+mach; got != want {
			t.Errorf("machine %s: sub sees %q, want only %q", mach, got, want)
		}
		if got, want := p.out("principal-"+mach), "a/"+mach; got != want {
			t.Errorf("machine %s: JUJU_PRINCIPAL_UNIT %q", mach, got)
		}
	}
	status := p.m.Status()
	for _, want := range []string{"subordinate-to:\n    - a", "subordinates:\n          sub/0:", "scope: container"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	name, err := p.m.AddUnit(p.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	p.settle()
	if got := p.m.Units("sub"); len(got) != 3 {
		t.Errorf("sub units after adding %s: %v", name, got)
	}
	if err := p.m.RemoveRelation(p.ctx, 1); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if got := p.m.Units("sub"); len(got) != 0 {
		t.Errorf("sub units after removing the relation: %v", got)
	}
	want := []string{"install", "info-relation-created", "leader-elected", "config-changed", "start", "info-relation-joined", "info-relation-changed",
		"info-relation-departed", "info-relation-broken", "stop", "remove"}
	if got := p.m.Hooks("sub/0"); !equal(got, want) {
		t.Errorf("sub/0 hooks %q, want %q", got, want)
	}
	wantA := []string{"juju-info-relation-departed", "juju-info-relation-broken"}
	if got := p.m.Hooks("a/0"); !equal(got[len(got)-2:], wantA) {
		t.Errorf("a/0 hooks end %q, want %q", got, wantA)
	}
}

func TestRemovalsBeforeHooksRun(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.deploy("b", 1)
	p.settle()
	id := p.integrate("a:db", "b:backend")
	if err := p.m.RemoveUnit(p.ctx, "a/1"); err != nil {
		t.Fatal(err)
	}
	if err := p.m.RemoveRelation(p.ctx, id); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if got := p.m.RelationData(id, "a"); got != nil {
		t.Errorf("relation %d still there: %v", id, got)
	}
	if got := p.m.Units("a"); !equal(got, []string{"a/0"}) {
		t.Errorf("units %v", got)
	}
	want := []string{"backend-relation-departed", "backend-relation-broken"}
	if got := p.m.Hooks("b/0"); !equal(got[len(got)-2:], want) {
		t.Errorf("b/0 hooks %q, want them to end with %q", got, want)
	}
	if _, err := p.m.Integrate(p.ctx, "a:db", "b:backend"); err != nil {
		t.Errorf("relating again: %v", err)
	}
	p.settle()
}
