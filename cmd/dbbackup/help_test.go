package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// buildCommand builds the main package at pkg (relative to this folder)
// into a temporary folder as name and returns the binary.
func buildCommand(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestHelpEverywhere runs every command of every binary of the project
// with --help: each exits 0, prints its usage on standard output and
// nothing on standard error.
func TestHelpEverywhere(t *testing.T) {
	bins := map[string]string{}
	for _, pkg := range []string{".", "../jujusim", "../jujuc", "../charmpack", "../demo"} {
		name := filepath.Base(pkg)
		if pkg == "." {
			name = "dbbackup"
		}
		bins[name] = buildCommand(t, pkg, name)
	}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	cases := [][]string{
		{"dbbackup", "--help"}, {"dbbackup", "-h"}, {"dbbackup", "help"},
		{"jujusim", "--help"}, {"jujusim", "-h"}, {"jujusim", "help"}, {"jujusim", "run", "--help"},
		{"jujuc", "--help"},
		{"charmpack", "--help"}, {"charmpack", "-h"},
		{"demo", "--help"}, {"demo", "-h"},
	}
	for _, n := range names {
		cases = append(cases, []string{"dbbackup", n, "--help"}, []string{"dbbackup", n, "-h"})
	}
	for _, c := range cases {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins[c[0]], c[1:]...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err != nil || !strings.Contains(stdout.String(), "Usage: ") || stderr.Len() > 0 {
				t.Errorf("%q: %v\nstdout:\n%s\nstderr:\n%s\nwant exit 0, the usage on stdout, nothing on stderr", c, err, stdout.String(), stderr.String())
			}
			if c[0] == "dbbackup" && !strings.Contains(stdout.String(), "Exit codes") {
				t.Errorf("%q does not state its exit codes:\n%s", c, stdout.String())
			}
		})
	}
}
