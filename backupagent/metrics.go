package backupagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/daemon"
	"github.com/dbbackup/dbbackup/metrics"
	"github.com/dbbackup/dbbackup/runner"
)

// The agent's metrics (docs/observability.md): each hook publishes this
// unit's facts (its finished jobs, from the journal) in the journal
// folder, and the runner serves them (metrics.Follow) beside its loop.

// MetricsFile is the published file in the journal folder.
const MetricsFile = "metrics.json"

// MetricsConfig is the metrics part of a charm's config.
type MetricsConfig struct {
	// Address is metrics-address (metrics.ParseAddress).
	Address string
	// MaxAge is backup-max-age (metrics.Threshold); empty: none.
	MaxAge string
}

// Check returns the listen address and the threshold; the error names
// the option.
func (c MetricsConfig) Check() (string, time.Duration, error) {
	addr, err := metrics.ParseAddress(c.Address)
	if err != nil {
		return "", 0, fmt.Errorf("metrics-address: %w", err)
	}
	d, err := metrics.Threshold(c.MaxAge, 0)
	if err != nil {
		return "", 0, fmt.Errorf("backup-max-age: %w", err)
	}
	return addr, d, nil
}

// UnitMetrics is the published document of unit from its journal records
// and the one published before (prev), whose counters it carries on.
func UnitMetrics(unit string, records []runner.Record, addr string, maxAge time.Duration, prev metrics.Published) metrics.Published {
	app, _, _ := strings.Cut(unit, "/")
	var jobs []metrics.Job
	for _, r := range records {
		out := r.Status
		if out != dbbackup.Success && out != dbbackup.Error {
			continue
		}
		j := metrics.Job{Type: r.Type, Outcome: out, Started: r.Started, Ended: r.Finished}
		if j.Started.After(j.Ended) {
			j.Started = time.Time{}
		}
		if r.Type == dbbackup.Backup && r.Bytes > 0 {
			j.RawBytes = r.Bytes
		}
		jobs = append(jobs, j)
	}
	a := metrics.App{Application: app, Unit: unit, MaxAge: maxAge}
	old, _ := prev.Snapshot.Find(app, unit)
	p := metrics.Published{Address: addr, Counted: map[string]time.Time{}}
	p.Counted[unit] = a.Fill(jobs, old, prev.Counted[unit])
	p.Snapshot.Apps = []metrics.App{a}
	return p
}

// PublishMetrics writes unit's metrics in the journal folder for the
// runner to serve; with an unusable config it removes them.
func PublishMetrics(j runner.Journal, unit string, records []runner.Record, c MetricsConfig) error {
	path := filepath.Join(j.Dir, MetricsFile)
	addr, maxAge, err := c.Check()
	if err != nil {
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("cannot remove the metrics: %w", rmErr)
		}
		return nil
	}
	prev, err := metrics.ReadPublished(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		goops.LogWarningf("%v; the counters start afresh", err)
	}
	b, err := UnitMetrics(unit, records, addr, maxAge, prev).Marshal()
	if err != nil {
		return err
	}
	if err := daemon.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("cannot publish the metrics: %w", err)
	}
	return nil
}

// ServeMetrics serves the metrics the hooks publish in the journal folder
// until ctx is done or the returned function is called; that function
// waits for the server to stop.
func ServeMetrics(ctx context.Context, j runner.Journal, log io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		metrics.Follow(ctx, filepath.Join(j.Dir, MetricsFile), log)
	}()
	return func() { cancel(); <-done }
}

// cosAgent is this unit's side of the cos-agent relations.
type cosAgent struct{ unit string }

func (c cosAgent) IDs() ([]string, error) { return goops.GetRelationIDs(metrics.CosAgentEndpoint) }

func (c cosAgent) Get(id string) (map[string]string, error) {
	return goops.GetUnitRelationData(id, c.unit)
}

func (c cosAgent) Set(id string, data map[string]string) error {
	return SetRelationData(id, false, data)
}

// SyncCosAgent publishes this unit's scrape job, the alert rules and the
// dashboard to the COS agent beside it (metrics.SyncCosAgent), as the
// charm charmName; with an unusable config, nothing.
func SyncCosAgent(env goops.Environment, charmName string, c MetricsConfig) error {
	addr, _, err := c.Check()
	app, _, _ := strings.Cut(env.UnitName, "/")
	top := metrics.Topology{Model: env.ModelName, ModelUUID: env.ModelUUID, Application: app, CharmName: charmName}
	return metrics.SyncCosAgent(cosAgent{unit: env.UnitName}, top, addr, err == nil)
}
