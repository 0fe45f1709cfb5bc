package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/charmpack"
	"github.com/dbbackup/dbbackup/jujusim"
)

// TestMain removes the hook tool jujusim builds.
func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

var charmDirs = []string{
	"../../charms/database-backup-agent",
	"../../charms/database-backup-agent/subordinate",
	"../../charms/database-backup-manager",
}

// packAll runs the command once per test binary, as make charms does.
func packAll(t *testing.T) []string {
	t.Helper()
	out := t.TempDir()
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx, append([]string{"-o", out}, charmDirs...), &stdout); err != nil {
		t.Fatal(err)
	}
	paths := strings.Fields(stdout.String())
	if len(paths) != len(charmDirs) {
		t.Fatalf("charmpack printed %q, want %d paths", stdout.String(), len(charmDirs))
	}
	return paths
}

// endpoints lists a charm's endpoints as "role name interface scope limit".
func endpoints(m *jujusim.Meta) []string {
	var out []string
	for _, ep := range m.Endpoints {
		out = append(out, fmt.Sprint(ep.Role, " ", ep.Name, " ", ep.Interface, " ", ep.Scope, " ", ep.Limit))
	}
	sort.Strings(out)
	return out
}

func TestCharmsPackAndDeploy(t *testing.T) {
	paths := packAll(t)
	for i, path := range paths {
		dir := charmDirs[i]
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := charmpack.Check(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Modes["dispatch"]; got != 0o755 {
				t.Errorf("dispatch mode %v, want 0755", got)
			}
			want, err := jujusim.ReadMeta(dir)
			if err != nil {
				t.Fatal(err)
			}
			for name, needed := range map[string]bool{"manifest.yaml": true, "metadata.yaml": true, "dispatch": true, "actions.yaml": len(want.Actions) > 0, "config.yaml": len(want.Config) > 0} {
				if _, ok := c.Modes[name]; ok != needed {
					t.Errorf("%s in the archive: %v, want %v", name, ok, needed)
				}
			}
			if c.Metadata.Name != want.Name || c.Metadata.Subordinate != want.Subordinate {
				t.Errorf("name %q subordinate %v, want %q %v", c.Metadata.Name, c.Metadata.Subordinate, want.Name, want.Subordinate)
			}
			// Unpack it and read it back as jujusim reads a charm folder:
			// the same endpoints, actions and options as charmcraft.yaml.
			charm, err := jujusim.CharmFromArchive(path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got, err := jujusim.ReadMeta(charm.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := endpoints(got), endpoints(want); !reflect.DeepEqual(g, w) {
				t.Errorf("endpoints %v, want %v", g, w)
			}
			if !reflect.DeepEqual(got.Actions, want.Actions) {
				t.Errorf("actions %v, want %v", got.Actions, want.Actions)
			}
			if !reflect.DeepEqual(got.Config, want.Config) {
				t.Errorf("config %v, want %v", got.Config, want.Config)
			}
			if len(c.Actions) != len(want.Actions) || len(c.Options) != len(want.Config) {
				t.Errorf("archive has %d actions %d options, want %d %d", len(c.Actions), len(c.Options), len(want.Actions), len(want.Config))
			}
		})
	}
	t.Run("deploy manager", func(t *testing.T) {
		charm, err := jujusim.CharmFromArchive(paths[2], t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		m, err := jujusim.NewModel(jujusim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("timeline:\n%s\nstatus:\n%s", m.TimelineString(), m.Status())
			}
			m.Close()
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.Deploy(ctx, "manager", charm, 1); err != nil {
			t.Fatal(err)
		}
		if err := m.Settle(ctx, 200); err != nil {
			t.Fatal(err)
		}
		res, err := m.RunAction(ctx, "manager/0", "list-jobs", map[string]any{"format": "json"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := res.Results["jobs"]; res.Status != "completed" || !ok {
			t.Errorf("list-jobs: %+v, want completed with jobs", res)
		}
	})
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-o", t.TempDir()}, {"-o", t.TempDir(), t.TempDir()}} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		usage      bool // an unusable command line
		wantStdout string
		wantErr    string
	}{
		{[]string{"--help"}, false, "Usage: charmpack [-o dist] CHARM-FOLDER...", ""},
		{[]string{"-h"}, false, "-o string", ""},
		{nil, true, "", "no charm folder"},
		{[]string{"-o"}, true, "", "flag needs an argument: -o"},
		{[]string{"-frob", "x"}, true, "", "flag provided but not defined: -frob"},
		{[]string{"/nonexistent/charm"}, false, "", "nonexistent"},
	}
	for _, tt := range tests {
		var stdout bytes.Buffer
		err := run(context.Background(), tt.args, &stdout)
		if tt.wantErr == "" {
			if err != nil || !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("run(%q) = %v, stdout %q", tt.args, err, stdout.String())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, errUsage) != tt.usage {
			t.Errorf("run(%q) = %v; want %q, usage error %v", tt.args, err, tt.wantErr, tt.usage)
		}
	}
}
