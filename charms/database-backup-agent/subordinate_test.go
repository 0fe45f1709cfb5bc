package main

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestSubordinatePostgres deploys the subordinate variant beside the
// database charm's unit over juju-info; it takes its credentials from the
// postgresql relation and backs up.
func TestSubordinatePostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	w := newWorldWith(t, dbServer{engine: "postgresql", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: "shop"},
		worldOptions{related: true, subordinate: true})
	if units := w.m.Units("agent"); len(units) != 1 {
		t.Fatalf("agent units = %v, want one beside db/0", units)
	}
	w.request(w.backup("b1"))
	if b1 := w.wait("b1")["b1"]; b1.Status != dbbackup.Success {
		t.Fatalf("b1 = %+v", b1)
	}
	w.checkNoSecrets()
}

// TestSubordinateMetadataMatches keeps the two charmcraft.yaml files in
// step: they differ only in name, subordinate, the juju-info endpoint,
// the parts' source and the header comment.
func TestSubordinateMetadataMatches(t *testing.T) {
	read := func(path string) map[string]any {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "name")
		delete(m, "subordinate")
		delete(m, "parts")
		if req, ok := m["requires"].(map[string]any); ok {
			delete(req, "juju-info")
		}
		out, _ := yaml.Marshal(m)
		var back map[string]any
		yaml.Unmarshal(out, &back)
		return back
	}
	got, want := read("subordinate/charmcraft.yaml"), read("charmcraft.yaml")
	g, _ := yaml.Marshal(got)
	wt, _ := yaml.Marshal(want)
	if string(g) != string(wt) {
		t.Errorf("subordinate/charmcraft.yaml differs from charmcraft.yaml:\n%s\nwant:\n%s", g, wt)
	}
}
