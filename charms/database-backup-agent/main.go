// Command database-backup-agent is the charm providing database_backup for
// one PostgreSQL or MariaDB/MySQL database. Every hook (and every juju-exec
// the runner sends) reconciles: it records the database for the runner,
// makes sure the runner runs, syncs the jobs (backupagent.Sync) and sets
// the workload status. With the argument "runner" the binary is the runner
// process itself.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/internal/charmenv"
	"github.com/dbbackup/dbbackup/runner"
)

func main() {
	// Every databag, action parameter, config and secret the charm reads
	// through a hook tool is read with a bound.
	goops.SetCommandRunner(bounded.Commands{})
	if len(os.Args) > 1 && os.Args[1] == backupagent.RunnerCommand {
		os.Exit(backupagent.RunnerMain(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == backupagent.ArchiverCommand {
		os.Exit(backupagent.ArchiverMain(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == backupagent.WALFetchCommand {
		os.Exit(backupagent.WALFetchMain(os.Args[2:], os.Stderr))
	}
	env := goops.ReadEnv()
	mode := backupagent.RunnerAuto
	if charmenv.Read().Simulated {
		mode = backupagent.RunnerProcess // jujusim's units share one machine
	}
	j := journal(env)
	var err error
	switch env.HookName {
	case "stop", "remove":
		err = backupagent.StopRunner(j)
	default:
		err = reconcile(env, j, mode)
	}
	if err != nil {
		goops.LogErrorf("%s: %v", env.HookName, err)
		os.Exit(1)
	}
}

// charmName names the charm in the Juju topology of its alerts.
const charmName = "database-backup-agent"

// journal is the runner's folder: beside the charm folder, so that it
// survives charm upgrades.
func journal(env goops.Environment) runner.Journal {
	return runner.Journal{Dir: filepath.Join(filepath.Dir(env.CharmDir), "dbbackup-runner")}
}

func reconcile(env goops.Environment, j runner.Journal, mode backupagent.RunnerMode) error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return fmt.Errorf("cannot read the config: %w", err)
	}
	db, related, problem, err := relatedDatabase(c)
	if err != nil {
		return err
	}
	if !related {
		db, problem = database(c)
	}
	if problem == "" {
		db, problem = withServerControl(c, db)
	}
	if problem == "" {
		if db, err = withTools(env, j, db); err != nil {
			problem = err.Error()
		}
	}
	kind, physical := db.Engine, db.DataDir != ""
	if problem != "" {
		// Jobs fail with "no database is configured yet" rather than wait
		// for a fix that may never come; the status says what to fix.
		db = backupagent.Database{}
	}
	changed, err := backupagent.SetDatabase(j, db)
	if err != nil {
		return err
	}
	archiving, err := archivingRule(c)
	if err != nil {
		return err
	}
	if _, err := backupagent.SetArchiving(j, archiving); err != nil {
		return err
	}
	if err := backupagent.StartRunner(j, env.UnitName, mode); err != nil {
		return err
	}
	if changed {
		if err := j.Kick(); err != nil { // check the new database at once
			return err
		}
	}
	if err := advertise(kind, physical); err != nil {
		return err
	}
	agent := backupagent.Agent{Journal: j, MaxBackupsPerUnit: c.MaxBackupsPerUnit}
	res, err := agent.Sync()
	if err != nil {
		return err
	}
	// Metrics never fail a hook: the next one tries again.
	if err := backupagent.PublishMetrics(j, env.UnitName, res.Records, c.metrics()); err != nil {
		goops.LogWarningf("%v", err)
	}
	if err := backupagent.SyncCosAgent(env, charmName, c.metrics()); err != nil {
		goops.LogWarningf("%v", err)
	}
	if _, _, err := c.metrics().Check(); err != nil && problem == "" {
		problem = "invalid config: " + err.Error()
	}
	if _, bad := c.warnRetained(); bad != "" && problem == "" {
		problem = bad
	}
	if problem != "" {
		return goops.SetUnitStatus(goops.StatusBlocked, problem)
	}
	st, msg := backupagent.StatusFrom(j, res.Records, time.Now())
	return goops.SetUnitStatus(st, msg)
}

// withTools sets db.BinDir to the tools of the server served (the Charmed
// PostgreSQL or MySQL snap's, the Debian packages', or PATH's), checked
// against the server's version (see backupagent.WithTools); in the
// install, upgrade-charm, config-changed and database relation-changed
// hooks it installs the client packages that are missing or too old. The check asks
// the server, so it runs when the database changes, when the recorded
// tools are gone, and in the hooks that follow an install, an upgrade or a
// config change; the other hooks (update-status, relation traffic, the
// runner's juju-exec calls) keep the recorded folder.
func withTools(env goops.Environment, j runner.Journal, db backupagent.Database) (backupagent.Database, error) {
	if old, err := backupagent.ReadDatabase(j); err == nil && old.BinDir != "" {
		cached := db
		cached.BinDir = old.BinDir
		_, statErr := os.Stat(old.BinDir)
		switch env.HookName {
		case "install", "upgrade-charm", "config-changed", "start":
		default:
			if cached == old && statErr == nil {
				return cached, nil
			}
		}
	}
	switch env.HookName {
	case "install", "upgrade-charm", "config-changed", "postgresql-relation-changed", "mysql-relation-changed":
		// These hooks (a new charm, new config, a database charm's answer)
		// may install the Debian/Ubuntu client packages the finder names
		// (apt-get, no upgrades), which takes minutes; the others do not
		// retry a failed install.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		return backupagent.WithToolsInstalling(ctx, db, backupagent.ToolFinder{}, backupagent.Installer{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return backupagent.WithTools(ctx, db, backupagent.ToolFinder{})
}
