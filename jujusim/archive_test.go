package jujusim_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/charmpack"
	"github.com/dbbackup/dbbackup/jujusim"
)

func TestDeployFromCharmArchive(t *testing.T) {
	built := buildGoopsCharm(t)
	archive, err := charmpack.Pack(built.Dir, built.Binary, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	charm, err := jujusim.CharmFromArchive(archive, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(charm.Dir, "dispatch")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("unpacked dispatch: %v %v", fi, err)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := m.Deploy(ctx, "p", charm, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if st, msg := m.UnitStatus("p/0"); st != "active" || msg != "greeting=hello" {
		t.Errorf("p/0 after install: %s %q", st, msg)
	}
	res, err := m.RunAction(ctx, "p/0", "greet", map[string]any{"name": "bob", "times": 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"message": "hello bob"}; res.Status != "completed" || !reflect.DeepEqual(res.Results, want) {
		t.Errorf("greet from the archive: %+v", res)
	}
}

func TestCharmFromArchiveRefusesABrokenArchive(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.charm")
	if err := os.WriteFile(bad, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := jujusim.CharmFromArchive(bad, t.TempDir()); err == nil {
		t.Error("CharmFromArchive of a non-zip: no error")
	}
}
