package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/daemon"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/metrics"
)

// The manager's metrics (docs/observability.md): the leader's hooks know
// the history, the schedules and the bucket listings; they publish one
// entry per related database application in the ticker's folder, and the
// ticker serves it (metrics.Follow). A scrape reads the ticker's memory.

// metricsFile is the published file in the ticker folder.
const metricsFile = "metrics.json"

// metricsConfig checks metrics-address and backup-max-age; the error names
// the option.
func (c config) metricsConfig() (addr string, err error) {
	if addr, err = metrics.ParseAddress(c.MetricsAddress); err != nil {
		return "", fmt.Errorf("metrics-address: %w", err)
	}
	if _, err := metrics.Threshold(c.BackupMaxAge, 0); err != nil {
		return "", fmt.Errorf("backup-max-age: %w", err)
	}
	return addr, nil
}

// maxAge is app's backup age threshold: backup-max-age, else derived from
// app's schedule; zero without either (or with an unusable option).
func (w *world) maxAge(app string) time.Duration {
	var interval time.Duration
	if w.policyErr == nil {
		if sch, ok := w.policy.schedule(app); ok {
			if n1 := sch.Next(w.now); !n1.IsZero() {
				if n2 := sch.Next(n1); !n2.IsZero() {
					interval = n2.Sub(n1)
				}
			}
		}
	}
	d, err := metrics.Threshold(w.cfg.BackupMaxAge, interval)
	if err != nil {
		return 0
	}
	return d
}

// noteListing keeps what a listing of the bucket found for app's metrics.
func (w *world) noteListing(app string, sums []artefact.Summary) {
	b := metrics.Bucket{Listed: w.now}
	for _, s := range sums {
		if s.Scope == app && s.Complete {
			b.Backups++
			b.StoredBytes += s.StoredBytes
		}
	}
	if w.listed == nil {
		w.listed = map[string]metrics.Bucket{}
		w.listedSizes = map[string]int64{}
	}
	w.listed[app] = b
	for _, s := range sums {
		if s.Complete {
			w.listedSizes[s.JobID] = s.StoredBytes
		}
	}
}

// lastBackup returns the record of app's last finished backup.
func (w *world) lastBackup(app string) requirer.Record {
	var last requirer.Record
	for _, r := range w.history.Records {
		if _, ok := jobOf(r); ok && r.Application == app && r.Type == dbbackup.Backup && !r.FinishedAt.Before(last.FinishedAt) {
			last = r
		}
	}
	return last
}

// storedBytes sets the size in the bucket of a's last backup: as this
// hook's listing found it, else as published before for the same backup,
// else, for a successful backup, as a listing of its scope finds it now
// (the hook that merged it may have been an action, which publishes
// nothing, and without retention no hook lists the bucket).
func (w *world) storedBytes(a *metrics.App, old metrics.App) {
	for i := range a.Last {
		j := &a.Last[i]
		if j.Type != dbbackup.Backup {
			continue
		}
		last := w.lastBackup(a.Application)
		if n, ok := w.listedSizes[last.JobID]; ok {
			j.StoredBytes = n
			return
		}
		for _, o := range old.Last {
			if o.Type == dbbackup.Backup && o.Ended.Equal(j.Ended) && o.StoredBytes > 0 {
				j.StoredBytes = o.StoredBytes
				return
			}
		}
		if last.Status != dbbackup.Success || strings.HasPrefix(last.Message, deletedNote) || w.s3.problem != "" {
			return // nothing in the bucket to size: no listing in every hook
		}
		ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
		defer cancel()
		sums, err := listBucket(ctx, w.s3.storage, a.Application)
		if err != nil {
			goops.LogWarningf("cannot list the backups of %s for the metrics: %v", a.Application, secret.Guard(err, w.secrets()))
			return
		}
		w.noteListing(a.Application, sums)
		j.StoredBytes = w.listedSizes[last.JobID]
		return
	}
}

// jobOf is a history record as the metrics see it: lost counts as an
// error; a record that is not over is not a finished job.
func jobOf(r requirer.Record) (metrics.Job, bool) {
	out := dbbackup.Success
	switch r.Status {
	case dbbackup.Success:
	case dbbackup.Error, dbbackup.Lost:
		out = dbbackup.Error
	default:
		return metrics.Job{}, false
	}
	start := r.StartedAt
	if start.After(r.FinishedAt) {
		start = time.Time{}
	}
	return metrics.Job{Type: r.Type, Outcome: out, Started: start, Ended: r.FinishedAt}, true
}

// metricsSnapshot builds the published document from this hook's view and
// the one published before (prev): counters, listings and storage checks
// carry over. probed says the bucket was checked in this hook.
func (w *world) metricsSnapshot(addr string, prev metrics.Published, probed bool) metrics.Published {
	p := metrics.Published{Address: addr, Counted: map[string]time.Time{}}
	jobs := map[string][]metrics.Job{}
	for _, r := range w.history.Records {
		if j, ok := jobOf(r); ok {
			jobs[r.Application] = append(jobs[r.Application], j)
		}
	}
	for _, app := range sortedKeys(w.rel.databases) {
		if !metrics.ValidAppName(app) || len(p.Snapshot.Apps) == metrics.MaxApps {
			continue
		}
		old, _ := prev.Snapshot.Find(app, "")
		a := metrics.App{Application: app, MaxAge: w.maxAge(app), Bucket: old.Bucket, Storage: old.Storage}
		p.Counted[app] = a.Fill(jobs[app], old, prev.Counted[app])
		w.storedBytes(&a, old)
		if w.policyErr == nil {
			if sch, ok := w.policy.schedule(app); ok {
				// The slot not yet handled: a missed slot stays due, so
				// the missed-backup alert sees it.
				st := w.peer.schedule[app]
				from := w.now
				if st.Spec == sch.Spec && st.Last.Before(from) {
					from = st.Last
				}
				a.NextBackup = sch.Next(from)
			}
		}
		if b, ok := w.listed[app]; ok {
			a.Bucket = &b
		}
		if probed && w.s3.problem == "" {
			a.Storage = &metrics.StorageCheck{Reachable: w.peer.check.OK, Checked: w.now}
		}
		p.Snapshot.Apps = append(p.Snapshot.Apps, a)
	}
	return p
}

// publishMetrics writes the leader's metrics for the ticker to serve; any
// other unit removes them. A failure is logged: metrics never fail a hook.
func (w *world) publishMetrics(dir string, probed bool) {
	if dir == "" {
		return
	}
	path := filepath.Join(dir, metricsFile)
	addr, err := w.cfg.metricsConfig()
	if !w.leader || w.historyErr != nil || err != nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			goops.LogWarningf("cannot remove the metrics: %v", err)
		}
		return
	}
	prev, err := metrics.ReadPublished(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		goops.LogWarningf("%v; the counters start afresh", err)
	}
	b, err := w.metricsSnapshot(addr, prev, probed).Marshal()
	if err == nil {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			err = daemon.WriteFile(path, b, 0o600)
		}
	}
	if err != nil {
		goops.LogWarningf("cannot publish the metrics: %v", err)
	}
}

// publishing reports whether the ticker has metrics to serve.
func publishing(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, metricsFile))
	return err == nil
}

// staleBackup returns the related application whose last successful
// backup is the most overdue against its threshold, with that backup's
// end; ok is false when none is overdue. An application without a
// successful backup in the history is not judged: the alert speaks for it
// once it has one.
func (w *world) staleBackup() (app string, last time.Time, limit time.Duration, ok bool) {
	lastOK := map[string]time.Time{}
	for _, r := range w.history.Records {
		if r.Type == dbbackup.Backup && r.Status == dbbackup.Success && r.FinishedAt.After(lastOK[r.Application]) {
			lastOK[r.Application] = r.FinishedAt
		}
	}
	worst := time.Duration(0)
	for _, a := range sortedKeys(w.rel.databases) {
		t, seen := lastOK[a]
		d := w.maxAge(a)
		if !seen || d <= 0 {
			continue
		}
		if over := w.now.Sub(t) - d; over > 0 && over > worst {
			app, last, limit, ok, worst = a, t, d, true, over
		}
	}
	return app, last, limit, ok
}

// staleText is the status warning of staleBackup, such as "warning: last
// backup of pg 26h ago (threshold 24h)"; empty when no backup is overdue.
func (w *world) staleText() string {
	app, last, limit, ok := w.staleBackup()
	if !ok {
		return ""
	}
	return fmt.Sprintf("warning: last backup of %s %s (threshold %s)", app, ago(w.now, last), shortDuration(limit))
}

// shortDuration writes d as whole days, hours or minutes when it is one.
func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
