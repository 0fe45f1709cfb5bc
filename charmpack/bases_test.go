package charmpack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitBases(t *testing.T) {
	head := "name: x\ntype: charm\nsummary: s\ndescription: d\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"base and arch", "base: ubuntu@24.04\nplatforms:\n  amd64:\n", []string{"ubuntu@24.04/amd64"}},
		{"base and build-for", "base: ubuntu@22.04\nplatforms:\n  x:\n    build-on: [amd64]\n    build-for: [arm64]\n", []string{"ubuntu@22.04/arm64"}},
		{"multi-base shorthand", "platforms:\n  ubuntu@24.04:amd64:\n  ubuntu@22.04:amd64:\n  ubuntu@22.04:arm64:\n",
			[]string{"ubuntu@22.04/amd64", "ubuntu@22.04/arm64", "ubuntu@24.04/amd64"}},
		{"multi-base build-for", "platforms:\n  jammy:\n    build-on: [ubuntu@22.04:amd64]\n    build-for: [ubuntu@22.04:amd64]\n", []string{"ubuntu@22.04/amd64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Split([]byte(head + tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range f.Bases {
				got = append(got, b.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("bases %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"no platforms", "base: ubuntu@24.04\n", "no platforms"},
		{"legacy bases", "bases:\n- name: ubuntu\n  channel: '22.04'\nplatforms:\n  amd64:\n", "bases key"},
		{"arch without base", "platforms:\n  amd64:\n", "no top-level base"},
		{"base twice", "base: ubuntu@24.04\nplatforms:\n  ubuntu@22.04:amd64:\n", "beside the top-level base"},
		{"no build-for", "base: ubuntu@24.04\nplatforms:\n  x:\n    build-on: [amd64]\n", "no build-for"},
		{"bad target", "platforms:\n  ubuntu:amd64:\n", "is not <name>@<channel>:<arch>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Split([]byte(head + tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestProjectCharms packs the project's three charm folders as make
// charms does and checks what Juju would read: each manifest lists exactly
// the bases its charmcraft.yaml declares, Ubuntu 22.04 and 24.04 (a
// subordinate must run on its principal's base, and Charmed PostgreSQL 14
// runs on 22.04), the subordinate the same as its principal, and the
// metadata assumes Juju 3.3 (user secrets).
func TestProjectCharms(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "dispatch")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := []string{"ubuntu@22.04/amd64", "ubuntu@24.04/amd64"}
	for _, dir := range []string{"database-backup-agent", "database-backup-agent/subordinate", "database-backup-manager"} {
		t.Run(dir, func(t *testing.T) {
			path, err := Pack(filepath.Join("..", "charms", dir), bin, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			c, err := Check(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Bases, want) {
				t.Errorf("manifest bases %v, want %v", c.Bases, want)
			}
			if !reflect.DeepEqual(c.Metadata.Assumes, []any{"juju >= 3.3"}) {
				t.Errorf("metadata assumes %v, want [juju >= 3.3]", c.Metadata.Assumes)
			}
			if sub := strings.HasSuffix(dir, "subordinate"); c.Metadata.Subordinate != sub {
				t.Errorf("subordinate %v, want %v", c.Metadata.Subordinate, sub)
			}
		})
	}
}
