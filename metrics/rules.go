package metrics

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed rules/dbbackup.rules.yaml
var rulesYAML []byte

//go:embed dashboards/dbbackup.json
var dashboardJSON []byte

// topologyPlaceholder stands for the Juju topology label matchers in the
// rule file's expressions, as the COS charm libraries write it.
const topologyPlaceholder = "%%juju_topology%%"

// The alert names of the rule file.
const (
	AlertBackupFailed          = "DbbackupBackupFailed"
	AlertBackupTooOld          = "DbbackupBackupTooOld"
	AlertScheduledBackupMissed = "DbbackupScheduledBackupMissed"
	AlertRestoreFailed         = "DbbackupRestoreFailed"
	AlertStorageUnreachable    = "DbbackupStorageUnreachable"
)

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups" json:"groups"`
}

// RuleGroup is one group of a rule file.
type RuleGroup struct {
	Name  string `yaml:"name" json:"name"`
	Rules []Rule `yaml:"rules" json:"rules"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `yaml:"alert" json:"alert"`
	Expr        string            `yaml:"expr" json:"expr"`
	For         string            `yaml:"for,omitempty" json:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// Rules returns the alert rules. With a nil topology they are ready for a
// plain Prometheus; with one, every expression matches only that
// application's series, every rule carries its topology labels and the
// group names start with its identifier, as the COS charm libraries do.
func Rules(top *Topology) (RuleFile, error) {
	var f RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(rulesYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return RuleFile{}, fmt.Errorf("cannot read the embedded alert rules: %w", err)
	}
	matchers := ""
	if top != nil {
		if err := top.Validate(); err != nil {
			return RuleFile{}, err
		}
		matchers = top.matchers()
	}
	for gi := range f.Groups {
		g := &f.Groups[gi]
		if top != nil {
			g.Name = sanitizeName(top.identifier() + "_" + g.Name + "_alerts")
		}
		for ri := range g.Rules {
			r := &g.Rules[ri]
			r.Expr = fillTopology(r.Expr, matchers)
			if top != nil {
				if r.Labels == nil {
					r.Labels = map[string]string{}
				}
				for k, v := range top.labels() {
					if _, ok := r.Labels[k]; !ok {
						r.Labels[k] = v
					}
				}
			}
		}
	}
	return f, nil
}

// RulesYAML returns Rules(top) as a rule file Prometheus loads.
func RulesYAML(top *Topology) ([]byte, error) {
	f, err := Rules(top)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(f)
}

// fillTopology replaces the placeholder by the matchers, or removes it
// with the comma that follows it when there are none.
func fillTopology(expr, matchers string) string {
	if matchers == "" {
		expr = strings.ReplaceAll(expr, topologyPlaceholder+",", "")
		return strings.ReplaceAll(expr, topologyPlaceholder, "")
	}
	return strings.ReplaceAll(expr, topologyPlaceholder, matchers)
}

var notNameChar = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

// sanitizeName makes s a valid rule group name as the COS libraries do:
// every character that may not appear in a metric name becomes "_".
func sanitizeName(s string) string { return notNameChar.ReplaceAllString(s, "_") }

// Dashboard returns the Grafana dashboard (JSON). Its queries use the
// datasource variable ${prometheusds}, which COS's Grafana fills in.
func Dashboard() []byte { return bytes.Clone(dashboardJSON) }

// quote writes s as a PromQL string literal.
func quote(s string) string { return strconv.Quote(s) }
