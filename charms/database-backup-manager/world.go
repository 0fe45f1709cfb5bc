package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// The charm's endpoints and keys.
const (
	backupEndpoint = "database-backup"
	s3Endpoint     = "s3-credentials"
	peerEndpoint   = "manager-peers"
	// s3CheckKey holds, in the peer application databag, the outcome of
	// the leader's last check of the bucket (see s3Check).
	s3CheckKey = "s3-check"
)

// world is what one hook or action of this unit sees of the model.
type world struct {
	hook   string // the hook running, "" for an action or juju-exec
	now    time.Time
	unit   string
	app    string
	leader bool
	cfg    config

	peerID  string            // the peer relation, "" before it exists
	peer    map[string]string // the peer application databag
	history requirer.History
	// historyErr says why the stored history cannot be read; then nothing
	// is written, so that it is never overwritten.
	historyErr error
	check      s3Check

	s3ID       string // the s3 relation, "" when not related
	s3Data     map[string]string
	storage    dbbackup.StorageConfig
	s3Problem  string            // why storage is unusable, "" when usable
	s3Secret   bool              // the credentials came from a v1 secret
	databases  map[string]string // related database application -> relation id
	reportRead bool
	reports    map[string]map[string][]dbbackup.Job // app -> unit -> jobs

	policy    policy // schedules and retention
	policyErr error  // why the schedule or retention options are unusable
	// schedState is what each application's schedule last did.
	schedState requirer.ScheduleStates
	// deletions are the latest backups removed by retention or delete-backup.
	deletions []deletion
	// retentionRun is when retention last ran; finished lists the
	// applications with a backup that finished successfully in this hook.
	retentionRun time.Time
	finished     map[string]bool
}

// config is the charm's configuration.
type config struct {
	MaxPending     int    `json:"max-pending-jobs"`
	JobTimeout     string `json:"job-timeout"`
	BackupSchedule string `json:"backup-schedule"`
	RetentionCount string `json:"retention-count"`
	RetentionDays  string `json:"retention-days"`
}

// jobTimeout returns the lost timeout; an unreadable value means 24h.
func (c config) jobTimeout() time.Duration {
	d, err := time.ParseDuration(c.JobTimeout)
	if err != nil || d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// maxPending returns the pending limit per application, at least 1.
func (c config) maxPending() int {
	if c.MaxPending < 1 {
		return 10
	}
	return c.MaxPending
}

// load reads what every hook and action needs.
func load(env goops.Environment, now time.Time) (*world, error) {
	w := &world{hook: env.HookName, now: now.UTC(), unit: env.UnitName, databases: map[string]string{}, finished: map[string]bool{}}
	w.app, _, _ = strings.Cut(env.UnitName, "/")
	var err error
	if w.leader, err = goops.IsLeader(); err != nil {
		return nil, fmt.Errorf("cannot tell leadership: %w", err)
	}
	if err := goops.GetConfig(&w.cfg); err != nil {
		return nil, fmt.Errorf("cannot read the configuration: %w", err)
	}
	if w.policy, err = parsePolicy(w.cfg); err != nil {
		w.policyErr = err
	}
	if err := w.loadPeer(); err != nil {
		return nil, err
	}
	if err := w.loadS3(); err != nil {
		return nil, err
	}
	ids, err := goops.GetRelationIDs(backupEndpoint)
	if err != nil {
		return nil, fmt.Errorf("cannot list the %s relations: %w", backupEndpoint, err)
	}
	for _, id := range ids {
		app, err := goops.GetRelationApp(id)
		if err != nil || app == "" {
			continue // a relation being set up or torn down
		}
		w.databases[app] = id
	}
	return w, nil
}

// loadPeer reads the history and the last bucket check.
func (w *world) loadPeer() error {
	ids, err := goops.GetRelationIDs(peerEndpoint)
	if err != nil {
		return fmt.Errorf("cannot list the peer relation: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	w.peerID = ids[0]
	if w.peer, err = goops.GetAppRelationData(w.peerID, w.app); err != nil {
		return fmt.Errorf("cannot read the job history: %w", err)
	}
	if w.history, err = requirer.ParseHistory(w.peer[requirer.HistoryKey]); err != nil {
		// Never lose the record silently: keep it as it is, write nothing,
		// and say so in the status.
		w.historyErr = fmt.Errorf("cannot read the job history in the peer databag (a newer or damaged record; nothing is written until it reads): %w", err)
		goops.LogErrorf("%s", w.historyErr)
	}
	w.check = parseCheck(w.peer[s3CheckKey])
	w.loadSchedule()
	w.loadDeletions()
	return nil
}

// loadS3 reads the credentials of the s3 relation (v0 fields, v1 secret).
func (w *world) loadS3() error {
	ids, err := goops.GetRelationIDs(s3Endpoint)
	if err != nil {
		return fmt.Errorf("cannot list the %s relation: %w", s3Endpoint, err)
	}
	if len(ids) == 0 {
		w.s3Problem = "no s3 credentials: integrate with an s3-integrator"
		return nil
	}
	w.s3ID = ids[0]
	app, err := goops.GetRelationApp(w.s3ID)
	if err != nil || app == "" {
		w.s3Problem = "no s3 credentials: waiting for the s3-integrator"
		return nil
	}
	if w.s3Data, err = goops.GetAppRelationData(w.s3ID, app); err != nil {
		return fmt.Errorf("cannot read the s3 relation: %w", err)
	}
	var secret map[string]string
	if uri := strings.TrimSpace(w.s3Data[secretExtraKey]); uri != "" {
		secret, err = goops.GetSecretByID(uri, false, true)
		if err != nil {
			w.s3Problem = "no s3 credentials: cannot read the s3-integrator's secret " + uri
			return nil
		}
		w.s3Secret = true
	}
	cfg, problem := storageFrom(w.s3Data, secret)
	if problem != "" {
		w.s3Problem = "no s3 credentials: " + problem
		return nil
	}
	w.storage = cfg
	return nil
}

// secrets returns the credentials this unit knows, to scrub text.
func (w *world) secrets() []string { return w.storage.Secrets() }

// loadReports reads each related database unit's reported jobs.
func (w *world) loadReports() error {
	if w.reportRead {
		return nil
	}
	w.reports = map[string]map[string][]dbbackup.Job{}
	for _, app := range sortedKeys(w.databases) {
		id := w.databases[app]
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
				jobs[i] = jobs[i].Redacted()
			}
			byUnit[u] = jobs
		}
		w.reports[app] = byUnit
	}
	w.reportRead = true
	return nil
}

// apps returns the related applications and those the history names, sorted.
func (w *world) apps() []string {
	set := map[string]bool{}
	for a := range w.databases {
		set[a] = true
	}
	for _, r := range w.history.Records {
		set[r.Application] = true
	}
	return sortedKeys(set)
}
