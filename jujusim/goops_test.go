package jujusim_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
)

// TestMain removes the hook tool and charms built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// buildGoopsCharm builds testdata/goopscharm once per test binary.
func buildGoopsCharm(tb testing.TB) jujusim.Charm {
	tb.Helper()
	bin, err := jujusim.BuildCharm("./testdata/goopscharm")
	if err != nil {
		tb.Fatal(err)
	}
	return jujusim.Charm{Dir: "testdata/goopscharm", Binary: bin}
}

func TestGoopsCharmRunsUnderJujusim(t *testing.T) {
	charm := buildGoopsCharm(t)
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
	for _, app := range []struct {
		name  string
		units int
	}{{"p", 1}, {"r", 2}} {
		if err := m.Deploy(ctx, app.name, charm, app.units); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Settle(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if st, msg := m.UnitStatus("p/0"); st != "active" || msg != "greeting=hello" {
		t.Errorf("p/0 after install: %s %q", st, msg)
	}
	id, err := m.Integrate(ctx, "p:db", "r:backend")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(ctx, 200); err != nil {
		t.Fatal(err)
	}
	// Relation data both ways: the requirers asked in their unit databags,
	// the provider leader answered in its application databag.
	if got, want := m.RelationData(id, "p")["wants"], "db-r-0,db-r-1"; got != want {
		t.Errorf("provider saw wants %q, want %q", got, want)
	}
	for _, u := range []string{"r/0", "r/1"} {
		if st, msg := m.UnitStatus(u); st != "active" || msg != "from p: greeting=hello secret=ok" {
			t.Errorf("%s: %s %q", u, st, msg)
		}
	}
	// Config change: new greeting, new secret revision, seen by requirers.
	if err := m.Config(ctx, "p", map[string]string{"greeting": "hi"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(ctx, 200); err != nil {
		t.Fatal(err)
	}
	if _, msg := m.UnitStatus("r/1"); msg != "from p: greeting=hi secret=ok" {
		t.Errorf("r/1 after config: %q", msg)
	}
	secrets := m.Secrets()
	if len(secrets) != 1 {
		t.Fatalf("secrets %v", secrets)
	}
	if content, rev, err := m.SecretContent(secrets[0]); err != nil || rev != 2 || content["password"] != "pw-hi" {
		t.Errorf("secret revision %d, err %v", rev, err)
	}
	if got, err := m.Exec(ctx, "p/0", "state-get greeting"); err != nil || strings.TrimSpace(got.Stdout) != "hi" {
		t.Errorf("state greeting %+v %v", got, err)
	}
	// An action with results, and one that fails.
	res, err := m.RunAction(ctx, "r/0", "greet", map[string]any{"name": "bob", "times": 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"message": "hello bob hello bob"}; res.Status != "completed" || !reflect.DeepEqual(res.Results, want) {
		t.Errorf("greet: %+v", res)
	}
	res, err = m.RunAction(ctx, "r/0", "greet", map[string]any{"name": "nobody"})
	if err != nil || res.Status != "failed" || res.Message != "cannot greet nobody" {
		t.Errorf("greet nobody: %+v %v", res, err)
	}
	show, err := m.ShowUnit("r/0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"application-data:", "greeting: hi", "related-endpoint: db", "want: db-r-0", "p/0:"} {
		if !strings.Contains(show, want) {
			t.Errorf("show-unit lacks %q:\n%s", want, show)
		}
	}
}
