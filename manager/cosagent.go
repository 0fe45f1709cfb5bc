package manager

import (
	"bytes"
	"fmt"
	"os/exec"

	"github.com/gruyaume/goops"
	"go.yaml.in/yaml/v3"

	"github.com/dbbackup/dbbackup/metrics"
)

// charmName is the charm's name, for the Juju topology of its alerts.
const charmName = "database-backup-manager"

// cosAgent is this unit's side of the cos-agent relations (interface
// cos_agent) through the hook tools.
type cosAgent struct{ unit string }

func (c cosAgent) IDs() ([]string, error) { return goops.GetRelationIDs(metrics.CosAgentEndpoint) }

func (c cosAgent) Get(id string) (map[string]string, error) {
	return goops.GetUnitRelationData(id, c.unit)
}

// Set writes through relation-set --file -: the document (rules and the
// dashboard) is tens of kilobytes.
func (c cosAgent) Set(id string, data map[string]string) error {
	doc, err := yaml.Marshal(data)
	if err != nil {
		return fmt.Errorf("cannot encode relation data for %s", id)
	}
	cmd := exec.Command("relation-set", "-r", id, "--file", "-")
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot write the unit data of relation %s: %s", id, firstLine(stderr.String(), err))
	}
	return nil
}

// syncCosAgent publishes the scrape job, the alert rules and the
// dashboard to the COS agent: on the leader, which serves the metrics;
// other units publish nothing. A failure is logged: the relation's next
// hook tries again.
func (w *world) syncCosAgent(env goops.Environment) {
	addr, err := w.cfg.metricsConfig()
	top := metrics.Topology{Model: env.ModelName, ModelUUID: env.ModelUUID, Application: w.app, CharmName: charmName}
	serves := err == nil && w.leader && w.historyErr == nil
	if err := metrics.SyncCosAgent(cosAgent{unit: w.unit}, top, addr, serves); err != nil {
		goops.LogWarningf("%v", err)
	}
}
