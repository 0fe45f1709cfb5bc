package manager

import (
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/metrics"
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

// Options are what the charm's main knows that the model does not say.
type Options struct {
	// Now is the time of this hook (the simulator's manual clock under
	// jujusim, see internal/charmenv); the wall clock when zero.
	Now time.Time
	// TickerDir is the folder of the schedule's ticker (TickerDir); no
	// ticker runs when it is empty.
	TickerDir string
	// NoTicker keeps the ticker from running: under a manual clock the
	// test drives the hooks.
	NoTicker bool
}

// HookName names what env runs, for a log line: the hook or the action.
func HookName(env goops.Environment) string {
	if env.ActionName != "" {
		return "action " + env.ActionName
	}
	return env.HookName
}

// Run loads this unit's view of the model and runs the action or the hook
// env names (or, outside both, what a juju-exec call asks: a hook's
// reconciliation). An action's error fails the action, not the unit; a
// hook's error is the hook's.
func Run(env goops.Environment, opts Options) error {
	w, err := load(env, opts.Now)
	if err != nil {
		return err
	}
	if env.ActionName != "" {
		return runAction(w, env.ActionName)
	}
	probe := probeHooks[env.HookName] || strings.HasPrefix(env.HookName, "s3-credentials-relation-")
	if err := w.reconcile(probe); err != nil {
		return err
	}
	if err := w.setStatus(); err != nil {
		return err
	}
	if env.HookName == "stop" || env.HookName == "remove" {
		w.leader = false // the ticker ends with the unit
	}
	w.publishMetrics(opts.TickerDir, probe)
	w.syncCosAgent(env)
	if err := w.syncTicker(opts); err != nil {
		// The next hook tries again; update-status still runs the schedule.
		goops.LogWarningf("%v", err)
	}
	return nil
}

// probeHooks are the hooks after which the leader checks that the bucket
// answers with the credentials: the s3 relation hooks too.
var probeHooks = map[string]bool{
	"update-status": true, "leader-elected": true, "config-changed": true,
	"upgrade-charm": true, "secret-changed": true, "start": true,
}

// runAction dispatches an action; an action's error fails the action, not
// the unit.
func runAction(w *world, name string) error {
	actions := map[string]func() error{
		"create-backup":   w.createBackup,
		"list-backups":    w.listBackups,
		"restore":         w.restore,
		"list-jobs":       w.listJobs,
		"show-job":        w.showJob,
		"clear-history":   w.clearHistory,
		"delete-backup":   w.deleteBackup,
		"verify-backup":   w.verifyBackup,
		"show-backup-log": w.showBackupLog,
	}
	fn, ok := actions[name]
	if !ok {
		return goops.FailActionf("unknown action %q", name)
	}
	if err := fn(); err != nil {
		msg := secret.Guard(err, w.secrets()).Error()
		goops.LogWarningf("action %s failed: %s", name, msg)
		return goops.FailActionf("%s", msg)
	}
	return nil
}

// fail is an action failure for the admin.
func fail(format string, args ...any) error { return fmt.Errorf(format, args...) }

// world is what one hook or action of this unit sees of the model: the
// unit, its configuration and the history it works on, beside the three
// sides it reads and writes (the peer databag, the s3 relation, the
// database_backup relations).
type world struct {
	hook   string // the hook running, "" for an action or juju-exec
	now    time.Time
	unit   string
	app    string
	leader bool
	cfg    config

	history requirer.History
	// historyErr says why the stored history cannot be read; then nothing
	// is written, so that it is never overwritten.
	historyErr error

	peer peerState // the peer application databag (peer.go)
	s3   s3Side    // the s3 relation's credentials (s3.go)
	rel  relations // the database_backup relations (relation.go)
	enc  encState  // the encryption keys (encryption.go)

	policy    policy // schedules and retention
	policyErr error  // why the schedule or retention options are unusable
	// finished lists the applications with a backup that finished
	// successfully in this hook.
	finished map[string]bool
	// listed holds what this hook's listings of the bucket found, per
	// application, for the metrics (metrics.go).
	listed map[string]metrics.Bucket
	// listedSizes holds the size in the bucket of each complete backup
	// those listings found, by job id.
	listedSizes map[string]int64
}

// load reads what every hook and action needs.
func load(env goops.Environment, now time.Time) (*world, error) {
	if now.IsZero() {
		now = time.Now()
	}
	w := &world{hook: env.HookName, now: now.UTC(), unit: env.UnitName, rel: relations{databases: map[string]string{}}, finished: map[string]bool{}}
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
	w.loadEncryption()
	ids, err := goops.GetRelationIDs(backupEndpoint)
	if err != nil {
		return nil, fmt.Errorf("cannot list the %s relations: %w", backupEndpoint, err)
	}
	for _, id := range ids {
		app, err := goops.GetRelationApp(id)
		if err != nil || app == "" {
			continue // a relation being set up or torn down
		}
		w.rel.databases[app] = id
	}
	return w, nil
}

// secrets returns the credentials this unit knows, to scrub text.
func (w *world) secrets() []string { return w.s3.storage.Secrets() }

// reconcile brings the relation databags in line with the history: it
// folds the provider units' reports into the history, writes each related
// application's pending jobs and saves the history. Only the leader writes;
// other units do nothing here. probe checks the bucket too.
func (w *world) reconcile(probe bool) error {
	if !w.leader || w.historyErr != nil {
		return nil
	}
	if err := w.requestSecrets(); err != nil {
		return err
	}
	if err := w.revokeOnBroken(); err != nil {
		return err
	}
	if probe {
		w.probe()
	}
	if err := w.merge(); err != nil {
		return err
	}
	w.runSchedule()
	w.runRetention(retentionHooks[w.hook])
	w.runVerifySchedule()
	if err := w.writeJobs(); err != nil {
		return err
	}
	return w.savePeer()
}
