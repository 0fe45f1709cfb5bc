package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/metrics"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cosStub is a charm that requires cos-agent and does nothing: the COS
// agent's side of the relation, whose databag view the test reads.
func cosStub(t *testing.T) jujusim.Charm {
	t.Helper()
	dir := t.TempDir()
	meta := "name: cos-stub\ntype: charm\nsummary: stands in for the COS agent\ndescription: reads cos_agent data\nrequires:\n  cos-agent:\n    interface: cos_agent\n"
	if err := os.WriteFile(filepath.Join(dir, "charmcraft.yaml"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dispatch"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return jujusim.Charm{Dir: dir}
}

// scrapeBody returns the exposition served at addr.
func scrapeBody(addr string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + metrics.Path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}

// eventually polls cond every 250 ms for up to limit, settling the
// model in between (the runner's reports come through juju-exec).
func eventually(t *testing.T, s *model.Stack, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v; last: %s", what, limit, last)
		}
		_ = s.M.Settle(s.Ctx, 5000)
		time.Sleep(250 * time.Millisecond)
	}
}

func alertStates(ctx context.Context, prom *testenv.Prometheus) (map[string]string, error) {
	alerts, err := prom.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range alerts {
		out[a.Labels["alertname"]+" "+a.Labels["application"]+" "+a.Labels["unit"]] = a.State
	}
	return out, nil
}

func describeSamples(s []testenv.Sample, err error) string {
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, x := range s {
		parts = append(parts, fmt.Sprintf("%v=%g", x.Labels, x.Value))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// The acceptance of the metrics on the real parts: a real Prometheus
// scrapes the manager's ticker and the agent's runner in the model; a
// failing backup makes DbbackupBackupFailed fire for the application (the
// manager's series) and the unit (the agent's); after a successful backup
// it resolves and every dashboard panel's query returns data; the
// cos-agent databags name the configured scrape targets; no credential
// appears in anything served.
func TestMetricsOnTheRealParts(t *testing.T) {
	s := start(t, model.Options{Postgres: true})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key); INSERT INTO items SELECT generate_series(1, 1000)")
	mgrAddr, agentAddr := freeAddr(t), freeAddr(t)
	s.Must(s.Config(model.Manager, map[string]string{"metrics-address": mgrAddr, "backup-schedule": "0 3 * * *", "retention-count": "5"}))
	s.Must(s.Config(model.Postgres, map[string]string{"metrics-address": agentAddr, "databases": "no_such_database"}))
	s.Must(s.M.Deploy(s.Ctx, "cos", cosStub(t), 1))
	for _, app := range []string{model.Manager, model.Postgres} {
		if _, err := s.M.Integrate(s.Ctx, app+":cos-agent", "cos:cos-agent"); err != nil {
			t.Fatal(err)
		}
	}
	s.Settle()

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	b, err := metrics.RulesYAML(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, b, 0o600); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{Targets: []string{mgrAddr, agentAddr}, RuleFiles: []string{rules}})
	ctx := s.Ctx
	leader := s.Leader()

	// A failing backup: the agent's database does not exist.
	failed := ok(t, s, leader, "create-backup", nil)["job-id"].(string)
	if res, err := s.Wait(failed, 2*time.Minute); err != nil || res["status"] != "error" {
		t.Fatalf("backup %s: %v %v, want an error", failed, res, err)
	}
	wantFailed := map[string]bool{
		metrics.AlertBackupFailed + " postgresql ":             true, // the manager's
		metrics.AlertBackupFailed + " postgresql postgresql/0": true, // the agent's
	}
	eventually(t, s, 90*time.Second, "the failure alert firing", func() (bool, string) {
		got, err := alertStates(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		for k := range wantFailed {
			if got[k] != "firing" {
				body, err := scrapeBody(agentAddr)
				published, _ := os.ReadFile(filepath.Join(s.Journal(s.M.Units(model.Postgres)[0]).Dir, "metrics.json"))
				return false, fmt.Sprintf("%v; the agent serves: %v %s; published: %s", got, err, body, published)
			}
		}
		return true, ""
	})

	// A successful backup resolves it and fills every panel.
	s.Must(s.Config(model.Postgres, map[string]string{"databases": "shop"}))
	id := ok(t, s, leader, "create-backup", nil)["job-id"].(string)
	wait(t, s, id)
	s.M.UpdateStatus() // the bucket check and the retention's listing
	s.Settle()
	eventually(t, s, 90*time.Second, "the failure alert resolved", func() (bool, string) {
		got, err := alertStates(ctx, prom)
		if err != nil {
			return false, err.Error()
		}
		for k, v := range got {
			if v == "firing" || strings.HasPrefix(k, metrics.AlertBackupFailed) {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	})
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(metrics.Dashboard(), &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			expr := strings.ReplaceAll(tg.Expr, "$__rate_interval", "2m")
			eventually(t, s, 60*time.Second, "panel "+p.Title, func() (bool, string) {
				smp, err := prom.Query(ctx, expr)
				return err == nil && len(smp) > 0, expr + ": " + describeSamples(smp, err)
			})
		}
	}
	smp, err := prom.Query(ctx, `dbbackup_jobs_total{application="postgresql",type="backup"}`)
	got := describeSamples(smp, err)
	for _, want := range []string{`instance:` + mgrAddr, `instance:` + agentAddr, `outcome:error`, `outcome:success`} {
		if !strings.Contains(got, want) {
			t.Errorf("jobs counted: %s; want %s", got, want)
		}
	}

	// The cos-agent databags name the addresses the units serve on.
	cos := map[string]string{model.Manager: mgrAddr, model.Postgres: agentAddr}
	for app, addr := range cos {
		unit := s.M.Units(app)[0]
		if app == model.Manager {
			unit = leader
		}
		var data map[string]string
		for _, id := range relationIDs(t, s, unit, "cos-agent") {
			data = s.M.RelationData(id, unit)
		}
		var doc struct {
			Jobs []struct {
				Static []struct {
					Targets []string `json:"targets"`
				} `json:"static_configs"`
			} `json:"metrics_scrape_jobs"`
			Dashboards []string `json:"dashboards"`
			Rules      any      `json:"metrics_alert_rules"`
		}
		if err := json.Unmarshal([]byte(data[metrics.CosAgentKey]), &doc); err != nil {
			t.Fatalf("%s's cos-agent data: %v: %.300q", unit, err, data[metrics.CosAgentKey])
		}
		_, port, _ := net.SplitHostPort(addr)
		if len(doc.Jobs) != 1 || len(doc.Jobs[0].Static) != 1 || fmt.Sprint(doc.Jobs[0].Static[0].Targets) != "[localhost:"+port+"]" ||
			len(doc.Dashboards) != 1 || doc.Rules == nil {
			t.Errorf("%s's cos-agent data: %.300s", unit, data[metrics.CosAgentKey])
		}
	}

	// No credential in any label or value served, nor in the COS data.
	texts := []string{}
	for _, addr := range []string{mgrAddr, agentAddr} {
		body, err := scrapeBody(addr)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, body)
	}
	all, err := prom.Query(ctx, `{__name__=~"dbbackup_.+"}`)
	texts = append(texts, describeSamples(all, err))
	for _, unit := range []string{leader, s.M.Units(model.Postgres)[0]} {
		for _, id := range relationIDs(t, s, unit, "cos-agent") {
			texts = append(texts, fmt.Sprint(s.M.RelationData(id, unit)))
		}
	}
	for _, secret := range s.Secrets() {
		for _, text := range texts {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("a credential is served: %.200s", text)
			}
		}
	}
	noCanary(t, s)
}

// relationIDs returns the ids of unit's relations on endpoint.
func relationIDs(t *testing.T, s *model.Stack, unit, endpoint string) []int {
	t.Helper()
	res, err := s.M.Exec(s.Ctx, unit, "relation-ids "+endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, f := range strings.Fields(res.Stdout) {
		_, n, ok := strings.Cut(f, ":")
		var id int
		if _, err := fmt.Sscan(n, &id); ok && err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("%s has no %s relation: %q", unit, endpoint, res.Stdout)
	}
	return ids
}
