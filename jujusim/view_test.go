package jujusim_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/jujusim"
)

// scenario builds the same small model each time: two related apps with
// data on both sides and statuses.
func scenario(t *testing.T) *probe {
	p := newProbe(t)
	p.script("a.config-changed", "status-set active ready\n[ $JUJU_UNIT_NAME = a/0 ] && status-set --application active 'all good'\nexit 0\n")
	p.script("a.db-relation-joined", "relation-set host=h-$JUJU_MACHINE_ID\n[ $JUJU_UNIT_NAME = a/0 ] && relation-set --app endpoints=h-0,h-1\nexit 0\n")
	p.script("b.backend-relation-joined", "relation-set want=db1\nstatus-set waiting 'for db'\n")
	p.deploy("a", 2)
	p.deploy("b", 1)
	p.settle()
	p.integrate("a:db", "b:backend")
	p.settle()
	return p
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestStatusAndShowUnitGolden(t *testing.T) {
	p := scenario(t)
	golden(t, "status.yaml", p.m.Status())
	show, err := p.m.ShowUnit("b/0")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "show-unit-b-0.yaml", show)
	if _, err := p.m.ShowUnit("zz/0"); err == nil {
		t.Error("ShowUnit of a missing unit succeeded")
	}
}

func TestTimelineIsDeterministic(t *testing.T) {
	first := scenario(t).m.TimelineString("hook", "data", "model")
	second := scenario(t).m.TimelineString("hook", "data", "model")
	if first != second {
		t.Errorf("two runs differ:\n%s\n---\n%s", first, second)
	}
	golden(t, "timeline.txt", first)
}

func TestOptionsLogStreamsTheTimeline(t *testing.T) {
	var log strings.Builder
	m, err := jujusim.NewModel(jujusim.Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Deploy(context.Background(), "a", jujusim.Charm{Dir: "testdata/probe"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	if got, want := log.String(), m.TimelineString(); got != want {
		t.Errorf("log:\n%s\ntimeline:\n%s", got, want)
	}
}
