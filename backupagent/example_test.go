package backupagent_test

import (
	"os"
	"path/filepath"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/runner"
)

// Example is the whole database_backup part of a goops database charm's
// main (docs/provider.md): the binary doubles as the runner process, every
// hook records the database, keeps the runner running, syncs the jobs and
// sets the status, and stop/remove stop the runner.
func Example() {
	if len(os.Args) > 1 && os.Args[1] == backupagent.RunnerCommand {
		os.Exit(backupagent.RunnerMain(os.Args[2:], os.Stderr))
	}
	env := goops.ReadEnv()
	j := runner.Journal{Dir: filepath.Join(filepath.Dir(env.CharmDir), "dbbackup-runner")}
	if env.HookName == "stop" || env.HookName == "remove" {
		if err := backupagent.StopRunner(j); err != nil {
			goops.LogErrorf("%v", err)
		}
		return
	}
	err := func() error {
		// Your charm knows its database and a user allowed to dump it.
		db := backupagent.Database{Engine: engine.PostgreSQL, Host: "127.0.0.1", Port: 5432, User: "backup", Password: os.Getenv("X")}
		if _, err := backupagent.SetDatabase(j, db); err != nil {
			return err
		}
		if err := backupagent.StartRunner(j, env.UnitName, backupagent.RunnerAuto); err != nil {
			return err
		}
		if _, err := (backupagent.Agent{Journal: j}).Sync(); err != nil {
			return err
		}
		st, msg := backupagent.Status(j, time.Now())
		return goops.SetUnitStatus(st, msg)
	}()
	if err != nil {
		goops.LogErrorf("%s: %v", env.HookName, err)
		os.Exit(1)
	}
}
