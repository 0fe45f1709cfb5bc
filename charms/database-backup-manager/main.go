// Command database-backup-manager is the requirer charm of the
// database_backup interface: it requests backups and restores of the
// related database applications with the S3 credentials of an
// s3-integrator, relays their results and keeps the history of every job
// in its peer application databag. The charm is package manager under a
// goops main; with the argument "ticker" the binary is the schedule's
// ticker process. See docs/manager.md.
package main

import (
	"os"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/internal/charmenv"
	"github.com/dbbackup/dbbackup/manager"
)

func main() {
	// Every databag, action parameter, config and secret the charm reads
	// through a hook tool is read with a bound.
	goops.SetCommandRunner(bounded.Commands{})
	if len(os.Args) > 1 && os.Args[1] == manager.TickerCommand {
		os.Exit(manager.TickerMain(os.Args[2:], os.Stderr))
	}
	env := goops.ReadEnv()
	host := charmenv.Read()
	opts := manager.Options{
		Now:       host.Now(),
		TickerDir: manager.TickerDir(env.CharmDir),
		NoTicker:  host.ManualClock(),
	}
	if err := manager.Run(env, opts); err != nil {
		goops.LogErrorf("%s: %s", manager.HookName(env), err)
		os.Exit(1)
	}
}
