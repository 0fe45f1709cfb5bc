package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrometheus: the started server scrapes its target, answers vector
// and scalar queries, loads its rule files and holds their alerts.
func TestPrometheus(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE probe_value gauge")
		fmt.Fprintln(w, `probe_value{kind="x"} 42`)
	}))
	t.Cleanup(target.Close)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	rule := "groups:\n- name: probe\n  rules:\n  - alert: ProbeHigh\n    expr: probe_value > 40\n"
	if err := os.WriteFile(rules, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(target.URL, "http://")
	p := StartPrometheus(t, PrometheusOptions{Targets: []string{addr}, RuleFiles: []string{rules}, Job: "probe"})
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := p.Query(ctx, "probe_value")
		alerts, aerr := p.Alerts(ctx)
		if err == nil && aerr == nil && len(s) == 1 && len(alerts) == 1 {
			if s[0].Value != 42 || s[0].Labels["kind"] != "x" || s[0].Labels["job"] != "probe" || s[0].Labels["instance"] != addr {
				t.Fatalf("probe_value: got %+v", s[0])
			}
			if alerts[0].Labels["alertname"] != "ProbeHigh" || alerts[0].State != "firing" {
				t.Fatalf("alerts: got %+v", alerts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape or alert within 30 s: %v %v %v %v%s", s, err, alerts, aerr, p.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	targets, err := p.Targets(ctx)
	if err != nil || targets[target.URL+"/metrics"] != "up" {
		t.Errorf("targets: got %v, %v", targets, err)
	}
	s, err := p.Query(ctx, "1 + 1")
	if err != nil || len(s) != 1 || s[0].Value != 2 {
		t.Errorf("scalar: got %v, %v", s, err)
	}
	if _, err := p.Query(ctx, "sum("); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("a bad query: got %v, want Prometheus's parse error", err)
	}
}
