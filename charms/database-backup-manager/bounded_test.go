package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
)

// TestMain removes the hook tool and the charms built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// TestActionParametersAreBounded runs an action whose parameters are over
// the bound of what a hook tool may print (8 MiB): the charm refuses them
// with an error naming action-get and the bound, and requests nothing; an
// action within the bound still runs. The bound is the main's wiring
// (bounded.Commands), so the test runs the built charm.
func TestActionParametersAreBounded(t *testing.T) {
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline:\n%s", m.TimelineString())
		}
		m.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	if err := m.Deploy(ctx, "manager", model.Charm(t, "database-backup-manager"), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("a", 9<<20)
	res, err := m.RunAction(ctx, "manager/0", "show-job", map[string]any{"job-id": huge})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" || !strings.Contains(res.Message+res.Output, "the output of action-get is larger than 8.0 MiB") {
		t.Fatalf("show-job with 9 MiB of parameters: %s %q\n%.2000s", res.Status, res.Message, res.Output)
	}
	res, err = m.RunAction(ctx, "manager/0", "list-jobs", nil)
	if err != nil || res.Status != "completed" {
		t.Fatalf("list-jobs: %v %s %q", err, res.Status, res.Message)
	}
}
