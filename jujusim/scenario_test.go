package jujusim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/jujusim"
)

func TestScenarioRun(t *testing.T) {
	p := newProbe(t)
	p.script("b.run", "action-set got=\"$(relation-get -r 2 --app name a)\"\n")
	s, err := jujusim.ReadScenario("testdata/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := s.Run(p.ctx, p.m, &out); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"got: alpha", "status: completed", "name: alpha", "related-units:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReadScenarioRefusesUnknownSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte("steps:\n  - settle: 1\n  - explode: now\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := jujusim.ReadScenario(path); err == nil || !strings.Contains(err.Error(), "step 2: unknown step [explode]") {
		t.Errorf("err %v", err)
	}
}
