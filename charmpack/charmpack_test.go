package charmpack

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const unified = `name: demo
type: charm
title: Demo charm
summary: a demo
description: demonstrates
base: ubuntu@24.04
platforms:
  amd64:
parts:
  charm:
    source: ..
    plugin: go
provides:
  db:
    interface: demo_db
requires:
  s3:
    interface: s3
    limit: 1
peers:
  peers:
    interface: demo_peers
config:
  options:
    n:
      type: int
      default: 3
      description: a number
actions:
  go:
    description: goes
    params:
      far:
        type: boolean
`

func TestSplit(t *testing.T) {
	f, err := Split([]byte(unified))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "demo" || f.Source != ".." {
		t.Errorf("name %q source %q, want demo ..", f.Name, f.Source)
	}
	mono, err := Split([]byte(strings.Replace(unified, "source: ..", "source: ../..\n    source-subdir: charms/demo", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if mono.Source != "../../charms/demo" {
		t.Errorf("source with source-subdir = %q, want ../../charms/demo", mono.Source)
	}
	meta := map[string]any{}
	if err := yaml.Unmarshal(f.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range meta {
		keys = append(keys, k)
	}
	want := []string{"description", "display-name", "name", "peers", "provides", "requires", "summary"}
	if got := sorted(keys); !reflect.DeepEqual(got, want) {
		t.Errorf("metadata.yaml keys %v, want %v", got, want)
	}
	if !strings.Contains(string(f.Actions), "far:") || strings.Contains(string(f.Actions), "options") {
		t.Errorf("actions.yaml:\n%s", f.Actions)
	}
	if !strings.HasPrefix(string(f.Config), "options:") {
		t.Errorf("config.yaml:\n%s", f.Config)
	}
}

func TestSplitRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no name", "type: charm\n", "no name"},
		{"not a charm", "name: x\ntype: bundle\n", "not charm"},
		{"not yaml", "name: [", "cannot parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Split([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// demoCharm writes the demo charm folder and a fake binary.
func demoCharm(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "charmcraft.yaml"), []byte(unified), 0o644); err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

func TestPackThenCheck(t *testing.T) {
	dir, bin := demoCharm(t)
	out := t.TempDir()
	path, err := Pack(dir, bin, out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := path, filepath.Join(out, "demo.charm"); got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	c, err := Check(path)
	if err != nil {
		t.Fatal(err)
	}
	wantModes := map[string]os.FileMode{"manifest.yaml": 0o644, "metadata.yaml": 0o644, "actions.yaml": 0o644, "config.yaml": 0o644, "dispatch": 0o755}
	if !reflect.DeepEqual(c.Modes, wantModes) {
		t.Errorf("modes %v, want %v", c.Modes, wantModes)
	}
	if want := []string{"ubuntu@24.04/amd64"}; !reflect.DeepEqual(c.Bases, want) { // base: ubuntu@24.04, platform amd64
		t.Errorf("bases %v, want %v", c.Bases, want)
	}
	if c.Metadata.Name != "demo" || c.Metadata.Requires["s3"] != (Endpoint{Interface: "s3", Limit: 1}) || c.Metadata.Provides["db"].Interface != "demo_db" || c.Metadata.Peers["peers"].Interface != "demo_peers" {
		t.Errorf("metadata %+v", c.Metadata)
	}
	if c.Options["n"].Type != "int" || c.Actions["go"]["description"] != "goes" {
		t.Errorf("options %v actions %v", c.Options, c.Actions)
	}
	ex := t.TempDir()
	if err := Extract(path, ex); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(ex, "dispatch"))
	if err != nil || string(got) != "#!/bin/sh\necho hi\n" {
		t.Errorf("extracted dispatch %q %v", got, err)
	}
}

type entry struct {
	name string
	mode os.FileMode
	data string
}

// zipOf writes a zip with the entries and returns its path.
func zipOf(t *testing.T, entries []entry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Modified: time.Now()}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.charm")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckRefuses(t *testing.T) {
	meta := entry{"metadata.yaml", 0o644, "name: x\nsummary: s\ndescription: d\n"}
	man := entry{"manifest.yaml", 0o644, "bases:\n- name: ubuntu\n  channel: '24.04'\n  architectures: [amd64]\n"}
	disp := entry{"dispatch", 0o755, "#!/bin/sh\n"}
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"no metadata", []entry{man, disp}, "no metadata.yaml"},
		{"no manifest", []entry{meta, disp}, "no bases"},
		{"no dispatch", []entry{meta, man}, "no dispatch"},
		{"dispatch not executable", []entry{meta, man, {"dispatch", 0o644, "x"}}, "not executable"},
		{"dispatch a symlink", []entry{meta, man, {"dispatch", os.ModeSymlink | 0o777, "/bin/sh"}}, "not a file"},
		{"parent escape", []entry{meta, man, disp, {"../evil", 0o644, "x"}}, "escapes"},
		{"hidden escape", []entry{meta, man, disp, {"src/../../evil", 0o644, "x"}}, "escapes"},
		{"absolute", []entry{meta, man, disp, {"/etc/evil", 0o644, "x"}}, "escapes"},
		{"backslash", []entry{meta, man, disp, {`..\evil`, 0o644, "x"}}, "escapes"},
		{"no summary", []entry{{"metadata.yaml", 0o644, "name: x\n"}, man, disp}, "lacks name"},
		{"endpoint without interface", []entry{{"metadata.yaml", 0o644, "name: x\nsummary: s\ndescription: d\nrequires:\n  db: {}\n"}, man, disp}, "needs an interface"},
		{"endpoint twice", []entry{{"metadata.yaml", 0o644, "name: x\nsummary: s\ndescription: d\nrequires:\n  db: {interface: a}\npeers:\n  db: {interface: b}\n"}, man, disp}, "defined twice"},
		{"bad option type", []entry{meta, man, disp, {"config.yaml", 0o644, "options:\n  n:\n    type: list\n"}}, "unknown type"},
		{"bad actions", []entry{meta, man, disp, {"actions.yaml", 0o644, "- a\n"}}, "cannot parse actions.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := zipOf(t, tc.entries)
			_, err := Check(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if err := Extract(path, t.TempDir()); err == nil {
				t.Error("Extract: no error")
			}
		})
	}
	if _, err := Check(zipOf(t, []entry{meta, man, disp})); err != nil {
		t.Errorf("minimal charm: %v", err)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add([]byte(unified))
	f.Add([]byte("name: x\nactions: 3\nconfig: [1]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := Split(b)
		if err != nil {
			return
		}
		if files.Name == "" || files.Metadata == nil {
			t.Fatalf("Split gave %+v and no error", files)
		}
		meta := map[string]any{}
		if err := yaml.Unmarshal(files.Metadata, &meta); err != nil {
			t.Fatalf("metadata.yaml does not parse back: %v", err)
		}
		if meta["name"] != files.Name {
			t.Fatalf("metadata name %v, want %q", meta["name"], files.Name)
		}
	})
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"dispatch", "../x", "a/../../b", "/abs", "a/b/", "./a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkName(name) != nil {
			return
		}
		dir := "/charm"
		got := filepath.Join(dir, filepath.FromSlash(name))
		if got != dir && !strings.HasPrefix(got, dir+"/") {
			t.Fatalf("%q accepted but lands at %s", name, got)
		}
	})
}
