package manager

import (
	"fmt"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// relations are the database_backup relations: the related applications
// and, once read, what their units report.
type relations struct {
	databases map[string]string                    // related database application -> relation id
	read      bool                                 // reports holds the units' reports
	reports   map[string]map[string][]dbbackup.Job // app -> unit -> jobs
	caps      map[string]dbbackup.Capabilities     // app -> what its provider advertises (capabilities.go)
}

// loadReports reads each related database unit's reported jobs.
func (w *world) loadReports() error {
	if w.rel.read {
		return nil
	}
	w.rel.reports = map[string]map[string][]dbbackup.Job{}
	for _, app := range sortedKeys(w.rel.databases) {
		id := w.rel.databases[app]
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return fmt.Errorf("cannot list the units of %s: %w", app, err)
		}
		byUnit := map[string][]dbbackup.Job{}
		for _, u := range units {
			data, err := goops.GetUnitRelationData(id, u)
			if err != nil {
				return fmt.Errorf("cannot read the report of %s: %w", u, err)
			}
			list := dbbackup.Databag(data).Jobs(dbbackup.Provider)
			if ps := list.AllProblems(); len(ps) > 0 {
				goops.LogWarningf("%s reports %d invalid job entries; the valid ones are used", u, len(ps))
			}
			jobs := list.Jobs()
			for i := range jobs {
				jobs[i] = w.scrubReport(jobs[i])
			}
			byUnit[u] = jobs
		}
		w.rel.reports[app] = byUnit
	}
	w.rel.read = true
	return nil
}

// apps returns the related applications and those the history names, sorted.
func (w *world) apps() []string {
	set := map[string]bool{}
	for a := range w.rel.databases {
		set[a] = true
	}
	for _, r := range w.history.Records {
		set[r.Application] = true
	}
	return sortedKeys(set)
}

// merge folds every related application's reports into the history; the
// pending jobs of an application no longer related end as lost in time.
func (w *world) merge() error {
	if err := w.loadReports(); err != nil {
		return err
	}
	for _, app := range w.apps() {
		var changes []requirer.Change
		w.history, changes = requirer.Merge(w.history, app, w.rel.reports[app], w.now, w.cfg.jobTimeout())
		for _, c := range changes {
			if c.Kind == requirer.Ignored {
				goops.LogDebugf("%s", secret.Scrub(c.String(), w.secrets()))
				continue
			}
			goops.LogInfof("%s", secret.Scrub(c.String(), w.secrets()))
			if c.Kind == requirer.Finished {
				if r, ok := w.history.Find(c.JobID); ok && r.Type == dbbackup.Backup && r.Status == dbbackup.Success {
					w.finished[app] = true
				}
			}
		}
	}
	return nil
}

// writeJobs writes each related application's waiting and running jobs
// into the relation's application databag: the credentials as a Juju
// secret (see credsecret.go) for a provider that advertises
// credentials-secret, inline as the seed says for any other. Without
// usable credentials nothing is written: the jobs wait.
func (w *world) writeJobs() error {
	if w.s3.problem != "" || len(w.rel.databases) == 0 || w.peer.id == "" {
		return nil // no credentials, nobody to ask, or no history yet
	}
	for _, app := range sortedKeys(w.rel.databases) {
		storage, uri, err := w.wireFor(app)
		if err != nil {
			return err
		}
		if err := w.writeJobsOf(app, storage, uri); err != nil {
			return err
		}
	}
	return nil
}

// writeJobsOf writes app's pending jobs with storage if they changed; a
// non-empty uri is the credentials secret, granted to the relation.
func (w *world) writeJobsOf(app string, storage dbbackup.StorageConfig, uri string) error {
	id := w.rel.databases[app]
	jobs, err := requirer.RelationJobs(w.history, app, storage, w.cfg.maxPending())
	if err != nil {
		return fmt.Errorf("cannot write the jobs of %s: %w", app, secret.Guard(err, w.secrets()))
	}
	jobs, keysURI, err := w.encryptJobs(app, w.pitrJobs(app, jobs))
	if err != nil {
		return err
	}
	have, err := goops.GetAppRelationData(id, w.app)
	if err != nil {
		return fmt.Errorf("cannot read the jobs requested from %s: %w", app, err)
	}
	bag := dbbackup.Databag{dbbackup.JobsKey: have[dbbackup.JobsKey]}
	changed, err := bag.SetJobs(jobs, dbbackup.Requirer)
	if err != nil {
		return fmt.Errorf("cannot write the jobs of %s: %w", app, secret.Guard(err, w.secrets()))
	}
	if !changed {
		return nil
	}
	if len(jobs) > 0 && uri != "" {
		if err := grantCredsSecret(uri, id); err != nil {
			return err
		}
	}
	if keysURI != "" {
		if err := grantCredsSecret(keysURI, id); err != nil {
			return err
		}
	}
	return setAppData(id, map[string]string{dbbackup.JobsKey: bag[dbbackup.JobsKey]})
}

// target returns the related application an action names, or the only one.
func (w *world) target(app string) (string, error) {
	related := sortedKeys(w.rel.databases)
	switch {
	case app != "" && w.rel.databases[app] != "":
		return app, nil
	case app != "":
		if len(related) == 0 {
			return "", fail("application %q is not related: no database application is related", app)
		}
		return "", fail("application %q is not related: related are %s", app, strings.Join(related, ", "))
	case len(related) == 0:
		return "", fail("no database application is related: integrate one on the %s endpoint", backupEndpoint)
	case len(related) > 1:
		return "", fail("several database applications are related (%s): choose one with application=NAME", strings.Join(related, ", "))
	}
	return related[0], nil
}
