package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

var testTopology = Topology{
	Model:       "prod-db",
	ModelUUID:   "0123abcd-4567-89ab-cdef-0123456789ab",
	Application: "backup-manager",
	CharmName:   "database-backup-manager",
}

// promtool runs promtool with args and fails the test on a non-zero exit.
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := testenv.PrometheusBinary(t, "promtool")
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeRules(t *testing.T, dir string, top *Topology) string {
	t.Helper()
	b, err := RulesYAML(top)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPromtoolCheckRules: the rules, plain and bound to a topology, load
// in Prometheus (expressions, durations, annotation templates).
func TestPromtoolCheckRules(t *testing.T) {
	for name, top := range map[string]*Topology{"plain": nil, "topology": &testTopology} {
		t.Run(name, func(t *testing.T) {
			p := writeRules(t, t.TempDir(), top)
			out := promtool(t, "check", "rules", p)
			if !strings.Contains(out, "SUCCESS: 5 rules found") {
				t.Fatalf("promtool check rules: want 5 rules, got:\n%s", out)
			}
		})
	}
}

// TestPromtoolTestRules runs testdata/rules_test.yaml: every alert fires
// when it should and stays silent when it should not.
func TestPromtoolTestRules(t *testing.T) {
	dir := t.TempDir()
	f, err := Rules(nil)
	if err != nil {
		t.Fatal(err)
	}
	for gi := range f.Groups {
		for ri := range f.Groups[gi].Rules {
			f.Groups[gi].Rules[ri].Annotations = nil
		}
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("testdata/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(dir, "rules_test.yaml")
	if err := os.WriteFile(test, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	promtool(t, "test", "rules", test)
}

// TestRulesTopology: bound to a topology, every expression selects only
// that topology's series, every rule carries its labels, and the group
// name starts with its identifier; without one no placeholder is left.
func TestRulesTopology(t *testing.T) {
	f, err := Rules(&testTopology)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 1 || f.Groups[0].Name != "prod_db_0123abcd_backup_manager_dbbackup_alerts" {
		t.Fatalf("groups: got %+v", f.Groups)
	}
	want := map[string]bool{AlertBackupFailed: true, AlertBackupTooOld: true, AlertScheduledBackupMissed: true, AlertRestoreFailed: true, AlertStorageUnreachable: true}
	for _, r := range f.Groups[0].Rules {
		delete(want, r.Alert)
		if strings.Contains(r.Expr, "%%") {
			t.Errorf("%s: placeholder left: %s", r.Alert, r.Expr)
		}
		// Each metric selector of the expression carries the matchers.
		if got, sel := strings.Count(r.Expr, `juju_application="backup-manager",juju_model="prod-db",juju_model_uuid="0123abcd-4567-89ab-cdef-0123456789ab"`), strings.Count(r.Expr, "dbbackup_"); got != sel {
			t.Errorf("%s: %d of %d selectors carry the topology: %s", r.Alert, got, sel, r.Expr)
		}
		for k, v := range map[string]string{"juju_model": "prod-db", "juju_model_uuid": testTopology.ModelUUID, "juju_application": "backup-manager", "juju_charm": "database-backup-manager"} {
			if r.Labels[k] != v {
				t.Errorf("%s: label %s: got %q, want %q", r.Alert, k, r.Labels[k], v)
			}
		}
		if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || len(r.Annotations["description"]) < 100 || !strings.Contains(r.Annotations["description"], "Runbook:") {
			t.Errorf("%s: wants a severity, a summary and a runbook-style description: %+v", r.Alert, r)
		}
	}
	if len(want) != 0 {
		t.Errorf("alerts missing: %v", want)
	}
	plain, err := RulesYAML(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(plain), "%%") || strings.Contains(string(plain), "juju_") {
		t.Errorf("plain rules carry topology or a placeholder:\n%s", plain)
	}
	if _, err := Rules(&Topology{Model: "m", ModelUUID: "not-a-uuid", Application: "a"}); err == nil {
		t.Error("Rules accepted a bad topology")
	}
}

// dashboardModel is what the tests read of the dashboard.
type dashboardModel struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr       string `json:"expr"`
			RefID      string `json:"refId"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard(t *testing.T, raw []byte) dashboardModel {
	t.Helper()
	var d dashboardModel
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	return d
}

// TestDashboardShape: the dashboard is JSON with unique panel ids, each
// panel queries the COS datasource variable, and it covers what an admin
// looks for (item 4 of the issue), with metrics this package serves.
func TestDashboardShape(t *testing.T) {
	d := readDashboard(t, Dashboard())
	if d.Title == "" || d.UID == "" {
		t.Fatalf("title and uid wanted: %+v", d)
	}
	if len(d.Templating.List) != 1 || d.Templating.List[0].Name != "prometheusds" || d.Templating.List[0].Type != "datasource" {
		t.Errorf("templating: want the prometheusds datasource variable, got %+v", d.Templating.List)
	}
	ids := map[int]bool{}
	served := map[string]bool{}
	for _, n := range allNames {
		served[n] = true
	}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${prometheusds}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q, %d targets", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "${prometheusds}" || tg.Expr == "" || tg.RefID == "" {
				t.Errorf("panel %q: target %+v", p.Title, tg)
			}
			for _, f := range strings.FieldsFunc(tg.Expr, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
				if strings.HasPrefix(f, "dbbackup_") && !served[f] {
					t.Errorf("panel %q: %s is not a metric this package serves", p.Title, f)
				}
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, m := range []string{LastSuccessName, JobsName, LastJobDurationName, LastRawBytesName, LastStoredBytesName, BucketBytesName, BucketBackupsName, NextBackupName} {
		if !strings.Contains(all, m) {
			t.Errorf("no panel shows %s", m)
		}
	}
}
