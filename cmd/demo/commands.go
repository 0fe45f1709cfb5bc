package main

import (
	"fmt"

	"github.com/dbbackup/dbbackup/internal/testenv/model"
)

// target is what the printed deploy commands point at.
type target struct {
	Bucket, Endpoint, Region string
	// PG and Maria are the two database servers.
	PG, Maria server
}

// server is one database server an agent serves.
type server struct {
	Host string
	Port int
	User string
}

// deployCommands returns the juju lines an admin runs to build the demo's
// model: the charms from the files make charms writes, --config once per
// key=value, the agent's password as a user secret granted to it. Secrets
// are masked; TestPrintedCommands checks each line with Juju's rules.
func deployCommands(t target) []string {
	lines := []string{
		fmt.Sprintf("juju deploy ./dist/database-backup-manager.charm %s", model.Manager),
		fmt.Sprintf("juju deploy %s", model.S3),
		fmt.Sprintf("juju config %s bucket=%s endpoint=%s region=%s s3-uri-style=path   # jujusim: a stand-in publishing the same s3 fields", model.S3, t.Bucket, t.Endpoint, t.Region),
		fmt.Sprintf("juju run %s/leader sync-s3-credentials access-key=*** secret-key=***", model.S3),
		fmt.Sprintf("juju integrate %s:s3-credentials %s", model.Manager, model.S3),
	}
	agent := func(app, engine string, db server) []string {
		return []string{
			fmt.Sprintf("juju add-secret %s-password password=***   # prints the secret id", app),
			fmt.Sprintf("juju deploy ./dist/database-backup-agent.charm %s --config engine=%s --config host=%s --config port=%d --config user=%s --config password-secret=secret:<id>",
				app, engine, db.Host, db.Port, db.User),
			fmt.Sprintf("juju grant-secret %s-password %s", app, app),
			fmt.Sprintf("juju integrate %s:database-backup %s:database-backup", app, model.Manager),
		}
	}
	lines = append(lines, agent(model.Postgres, "postgresql", t.PG)...)
	return append(lines, agent(model.MariaDB, "mysql", t.Maria)...)
}

// runCommand returns the `juju run` line of an action with its parameters
// as key=value, sorted.
func runCommand(unit, name string, params map[string]any) string {
	cmd := "juju run " + unit + " " + name
	for _, k := range sortedKeys(params) {
		cmd += fmt.Sprintf(" %s=%v", k, params[k])
	}
	return cmd
}

// demoSchedule is the demo's backup-schedule: PostgreSQL daily at 03:00, the
// other applications not on a schedule.
var demoSchedule = model.Postgres + "=0 3 * * *"

// scheduleCommand is the `juju config` line that sets the demo's schedule.
func scheduleCommand() string {
	return fmt.Sprintf(`juju config %s backup-schedule="%s" retention-count=2`, model.Manager, demoSchedule)
}
