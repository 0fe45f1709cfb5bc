package jujusim_test

import (
	"context"
	"testing"
	"time"
)

func TestSetLeaderMovesLeadership(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 2)
	p.settle()
	p.script("leader-elected", "is-leader --format=json > $OUT/leader-$JUJU_MACHINE_ID\n")
	if err := p.m.SetLeader(p.ctx, "a/1"); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if got := p.out("leader-1"); got != "true" {
		t.Errorf("new leader's is-leader %q", got)
	}
	if got := p.exec("a/0", "is-leader"); got != "False" {
		t.Errorf("old leader's is-leader %q", got)
	}
	if err := p.m.SetLeader(p.ctx, "a/7"); err == nil {
		t.Error("SetLeader of a missing unit succeeded")
	}
}

func TestUpdateStatusEvery(t *testing.T) {
	p := newProbe(t)
	p.deploy("a", 1)
	p.settle()
	ctx, cancel := context.WithTimeout(p.ctx, 200*time.Millisecond)
	defer cancel()
	p.m.UpdateStatusEvery(ctx, 20*time.Millisecond)
	if got := p.m.Pending("a/0"); !equal(got, []string{"update-status"}) {
		t.Errorf("pending %q, want one coalesced update-status", got)
	}
	p.settle()
	if got := p.m.Hooks("a/0"); got[len(got)-1] != "update-status" {
		t.Errorf("hooks %q", got)
	}
}
