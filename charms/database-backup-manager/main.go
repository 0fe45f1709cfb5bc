// Command database-backup-manager is the requirer charm of the
// database_backup interface: it requests backups and restores of the
// related database applications with the S3 credentials of an
// s3-integrator, relays their results and keeps the history of every job
// in its peer application databag. See docs/manager.md.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// timeNow is the clock; tests of the pure parts pass their own times.
var timeNow = hookClock

// simNowEnv carries the time of jujusim's manual clock into a hook (see
// jujusim.NowEnv); Juju never sets it.
const simNowEnv = "JUJUSIM_NOW"

// hookClock returns the wall clock's time, or the test model's when it
// runs on a manual clock.
func hookClock() time.Time {
	if v := os.Getenv(simNowEnv); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
	}
	return time.Now()
}

func main() {
	// Every databag, action parameter, config and secret the charm reads
	// through a hook tool is read with a bound.
	goops.SetCommandRunner(bounded.Commands{})
	if len(os.Args) > 1 && os.Args[1] == tickerCommand {
		os.Exit(tickerMain(os.Args[2:], os.Stderr))
	}
	env := goops.ReadEnv()
	if err := run(env); err != nil {
		goops.LogErrorf("%s: %s", hookName(env), err)
		os.Exit(1)
	}
}

// hookName names what runs: the hook or the action.
func hookName(env goops.Environment) string {
	if env.ActionName != "" {
		return "action " + env.ActionName
	}
	return env.HookName
}

// run loads the unit's view of the model and runs the action or the hook.
func run(env goops.Environment) error {
	w, err := load(env, timeNow())
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
	if err := w.syncTicker(tickerDir(env)); err != nil {
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
		"create-backup": w.createBackup,
		"list-backups":  w.listBackups,
		"restore":       w.restore,
		"list-jobs":     w.listJobs,
		"show-job":      w.showJob,
		"clear-history": w.clearHistory,
		"delete-backup": w.deleteBackup,
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
