package metrics

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"

	"github.com/ulikunitz/xz"
)

// CosAgentKey is the unit databag key of the cos_agent relation: the COS
// agent charms (grafana-agent, opentelemetry-collector) read one JSON
// document under it, written by the providing unit.
const CosAgentKey = "config"

// ErrInvalidTopology is wrapped by every refusal of Topology.Validate.
var ErrInvalidTopology = errors.New("invalid Juju topology")

// Topology names where the metrics come from in Juju's terms, as the
// unit's environment tells its charm (JUJU_MODEL_NAME, JUJU_MODEL_UUID,
// JUJU_UNIT_NAME).
type Topology struct {
	Model     string
	ModelUUID string
	// Application is the charm's application (the manager or the agent),
	// whose units the COS agent scrapes.
	Application string
	// CharmName is the charm's name; optional.
	CharmName string
}

var (
	modelName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	modelUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	charmName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// Validate checks each name against Juju's rules.
func (t Topology) Validate() error {
	switch {
	case !modelName.MatchString(t.Model):
		return fmt.Errorf("%w: model: not a Juju model name: %q", ErrInvalidTopology, clip(t.Model))
	case !modelUUID.MatchString(t.ModelUUID):
		return fmt.Errorf("%w: model-uuid: not a UUID: %q", ErrInvalidTopology, clip(t.ModelUUID))
	case !ValidAppName(t.Application):
		return fmt.Errorf("%w: application: not a Juju application name: %q", ErrInvalidTopology, clip(t.Application))
	case t.CharmName != "" && !charmName.MatchString(t.CharmName):
		return fmt.Errorf("%w: charm: not a charm name: %q", ErrInvalidTopology, clip(t.CharmName))
	}
	return nil
}

// identifier is the COS libraries' short name of the topology:
// model, first eight characters of the model's UUID, application.
func (t Topology) identifier() string {
	return t.Model + "_" + t.ModelUUID[:8] + "_" + t.Application
}

// labels are the topology labels every alert rule carries.
func (t Topology) labels() map[string]string {
	l := map[string]string{"juju_model": t.Model, "juju_model_uuid": t.ModelUUID, "juju_application": t.Application}
	if t.CharmName != "" {
		l["juju_charm"] = t.CharmName
	}
	return l
}

// matchers are the PromQL label matchers that keep an expression to the
// topology's series.
func (t Topology) matchers() string {
	return "juju_application=" + quote(t.Application) + ",juju_model=" + quote(t.Model) + ",juju_model_uuid=" + quote(t.ModelUUID)
}

// cosAgentData is the document under CosAgentKey, field for field as the
// cos_agent charm library's provider unit data (its pydantic model
// ignores keys it does not know and defaults the optional ones).
type cosAgentData struct {
	MetricsAlertRules any         `json:"metrics_alert_rules"`
	LogAlertRules     any         `json:"log_alert_rules"`
	Dashboards        []string    `json:"dashboards"`
	MetricsScrapeJobs []scrapeJob `json:"metrics_scrape_jobs"`
	LogSlots          []string    `json:"log_slots"`
}

type scrapeJob struct {
	JobName       string         `json:"job_name"`
	MetricsPath   string         `json:"metrics_path"`
	StaticConfigs []staticConfig `json:"static_configs"`
}

type staticConfig struct {
	Targets []string `json:"targets"`
}

// CosAgentData returns the unit databag of the cos_agent relation for a
// unit serving its metrics on addr (checked by ParseAddress): a scrape job
// of that address as the COS agent on the same machine reaches it, the
// alert rules bound to the topology, and the dashboard in the charm
// library's encoding (LZMA in the xz container, then base64).
func CosAgentData(top Topology, addr string) (map[string]string, error) {
	if err := top.Validate(); err != nil {
		return nil, err
	}
	addr, err := ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	rules, err := Rules(&top)
	if err != nil {
		return nil, err
	}
	dash, err := EncodeDashboard(dashboardJSON)
	if err != nil {
		return nil, err
	}
	d := cosAgentData{
		MetricsAlertRules: rules,
		LogAlertRules:     map[string]any{},
		Dashboards:        []string{dash},
		MetricsScrapeJobs: []scrapeJob{{
			// The library names each job <application>_<index>_<name>.
			JobName:       top.Application + "_0_dbbackup",
			MetricsPath:   Path,
			StaticConfigs: []staticConfig{{Targets: []string{scrapeTarget(addr)}}},
		}},
		LogSlots: []string{},
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("cannot write the cos_agent data: %w", err)
	}
	return map[string]string{CosAgentKey: string(b)}, nil
}

// scrapeTarget is where the COS agent, on the same machine, reaches a
// server listening on addr: localhost for the loopback and for every
// interface, the address itself otherwise.
func scrapeTarget(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if host == "" || host == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		return net.JoinHostPort("localhost", port)
	}
	return addr
}

// EncodeDashboard encodes a dashboard as the COS charm libraries carry it
// in relation data: compressed by LZMA in the xz container (Python's
// lzma.compress), then base64.
func EncodeDashboard(raw []byte) (string, error) {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("cannot compress the dashboard: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
