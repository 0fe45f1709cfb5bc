package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// prometheusReadyTimeout bounds how long Prometheus may take to start.
const prometheusReadyTimeout = 30 * time.Second

// Prometheus is a real Prometheus server (Debian's package) a test started
// on 127.0.0.1 in a temporary folder; t.Cleanup stops it.
type Prometheus struct {
	// URL is the server's address, such as http://127.0.0.1:40123.
	URL string
	// LogPath is the file holding the server's output.
	LogPath string
}

// PrometheusOptions says what the server scrapes and evaluates.
type PrometheusOptions struct {
	// Targets are host:port addresses whose /metrics it scrapes, as one job.
	Targets []string
	// Job is the scrape job's name; "dbbackup" if empty.
	Job string
	// RuleFiles are rule files it loads.
	RuleFiles []string
	// Interval is both the scrape and the rule evaluation interval; one
	// second if zero.
	Interval time.Duration
}

// PrometheusBinary returns the path of the prometheus or promtool program
// of the Debian package; without it the test is Unavailable.
func PrometheusBinary(t T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed: run scripts/install-databases.sh (Debian's prometheus package)", name)
	}
	return p
}

// StartPrometheus starts Prometheus with a configuration made of opts.
func StartPrometheus(t T, opts PrometheusOptions) *Prometheus {
	t.Helper()
	bin := PrometheusBinary(t, "prometheus")
	dir := t.TempDir()
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Job == "" {
		opts.Job = "dbbackup"
	}
	every := opts.Interval.String()
	// JSON is YAML: the configuration needs no YAML writer.
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": every, "evaluation_interval": every, "scrape_timeout": every},
		"rule_files": append([]string{}, opts.RuleFiles...),
		"scrape_configs": []any{map[string]any{
			"job_name":       opts.Job,
			"metrics_path":   "/metrics",
			"static_configs": []any{map[string]any{"targets": append([]string{}, opts.Targets...)}},
		}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("cannot write the prometheus configuration: %v", err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatalf("cannot write the prometheus configuration: %v", err)
	}
	p := &Prometheus{LogPath: filepath.Join(dir, "prometheus.log")}
	port := freePort(t)
	p.URL = "http://127.0.0.1:" + port
	logf, err := os.Create(p.LogPath)
	if err != nil {
		t.Fatalf("cannot create the prometheus log: %v", err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+port,
		"--web.console.templates="+filepath.Join(dir, "none"),
		"--web.console.libraries="+filepath.Join(dir, "none"),
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("cannot start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { stop(cmd, exited) })
	if err := p.waitReady(exited); err != nil {
		t.Fatalf("prometheus at %s did not become ready: %v%s", p.URL, err, p.logTail())
	}
	return p
}

func (p *Prometheus) waitReady(exited chan error) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(prometheusReadyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("process exited: %v", err)
		default:
		}
		resp, err := c.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %v: %v", prometheusReadyTimeout, last)
}

func (p *Prometheus) logTail() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Sprintf("\n--- prometheus log (%s) ---\n%s", p.LogPath, b)
}

// Sample is one series of an instant query's answer.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query runs an instant PromQL query and returns its vector; a scalar
// comes back as one sample without labels.
func (p *Prometheus) Query(ctx context.Context, expr string) ([]Sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(expr), &data); err != nil {
		return nil, fmt.Errorf("cannot query %q: %w", expr, err)
	}
	switch data.ResultType {
	case "vector":
		var rows []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(data.Result, &rows); err != nil {
			return nil, fmt.Errorf("cannot read the answer to %q: %w", expr, err)
		}
		out := make([]Sample, 0, len(rows))
		for _, r := range rows {
			v, err := sampleValue(r.Value[1])
			if err != nil {
				return nil, fmt.Errorf("cannot read the answer to %q: %w", expr, err)
			}
			out = append(out, Sample{Labels: r.Metric, Value: v})
		}
		return out, nil
	case "scalar":
		var pair [2]any
		if err := json.Unmarshal(data.Result, &pair); err != nil {
			return nil, fmt.Errorf("cannot read the answer to %q: %w", expr, err)
		}
		v, err := sampleValue(pair[1])
		if err != nil {
			return nil, fmt.Errorf("cannot read the answer to %q: %w", expr, err)
		}
		return []Sample{{Value: v}}, nil
	}
	return nil, fmt.Errorf("cannot read the answer to %q: result type %q", expr, data.ResultType)
}

func sampleValue(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", v)
	}
	return strconv.ParseFloat(s, 64)
}

// Alert is one alert Prometheus holds: pending or firing.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// Alerts returns the alerts Prometheus holds now.
func (p *Prometheus) Alerts(ctx context.Context) ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	if err := p.get(ctx, "/api/v1/alerts", &data); err != nil {
		return nil, fmt.Errorf("cannot list alerts: %w", err)
	}
	return data.Alerts, nil
}

// Targets returns the scrape targets' health ("up", "down", "unknown")
// by their scrape URL.
func (p *Prometheus) Targets(ctx context.Context) (map[string]string, error) {
	var data struct {
		ActiveTargets []struct {
			ScrapeURL string `json:"scrapeUrl"`
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := p.get(ctx, "/api/v1/targets", &data); err != nil {
		return nil, fmt.Errorf("cannot list targets: %w", err)
	}
	out := map[string]string{}
	for _, t := range data.ActiveTargets {
		out[t.ScrapeURL] = t.Health
	}
	return out, nil
}

// get reads an API answer's data into v.
func (p *Prometheus) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("status %s: not JSON: %.200s", resp.Status, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("status %s: %s", resp.Status, env.Error)
	}
	return json.Unmarshal(env.Data, v)
}
