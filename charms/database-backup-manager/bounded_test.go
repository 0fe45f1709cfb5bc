package main

import (
	"strings"
	"testing"
)

// TestActionParametersAreBounded runs an action whose parameters are over
// the bound of what a hook tool may print (8 MiB): the charm refuses them
// with an error naming action-get and the bound, and requests nothing; an
// action within the bound still runs.
func TestActionParametersAreBounded(t *testing.T) {
	s := newSim(t, 1)
	huge := strings.Repeat("a", 9<<20)
	res := s.run("manager/0", "show-job", map[string]any{"job-id": huge})
	if res.Status != "failed" || !strings.Contains(res.Message+res.Output, "the output of action-get is larger than 8.0 MiB") {
		t.Fatalf("show-job with 9 MiB of parameters: %s %q\n%.2000s", res.Status, res.Message, res.Output)
	}
	s.ok("manager/0", "list-jobs", nil)
}
