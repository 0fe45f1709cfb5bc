package dbbackup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPublishedAndSeedExamplesAreValid(t *testing.T) {
	cases := []struct {
		file  string
		side  Side
		count int
	}{
		{"published-requirer.json", Requirer, 2},
		{"published-provider.json", Provider, 2},
		{"seed-requirer-fixed.json", Requirer, 2},
		{"seed-provider-mysql-0.json", Provider, 1},
		{"seed-provider-mysql-1.json", Provider, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			l := ParseJobs(readTestdata(t, c.file), c.side)
			if ps := l.AllProblems(); len(ps) != 0 {
				t.Fatalf("problems:\n%v", ps)
			}
			if got := len(l.Jobs()); got != c.count {
				t.Fatalf("got %d jobs, want %d", got, c.count)
			}
		})
	}
}

func TestSeedRequirerExampleIsRejectedWithOffset(t *testing.T) {
	l := ParseJobs(readTestdata(t, "seed-requirer-invalid.json"), Requirer)
	ps := l.AllProblems()
	if len(ps) != 1 {
		t.Fatalf("got %d problems, want 1: %v", len(ps), ps)
	}
	got := ps[0].String()
	for _, want := range []string{"jobs: invalid JSON at byte ", "line 7, column 13", "invalid character"} {
		if !strings.Contains(got, want) {
			t.Errorf("problem %q does not contain %q", got, want)
		}
	}
}
