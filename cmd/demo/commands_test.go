package main

import (
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/internal/jujucli"
)

// TestPrintedCommands checks every juju line the demo prints with the
// rules of Juju's commands: what an admin copies from the demo must be a
// command Juju accepts.
func TestPrintedCommands(t *testing.T) {
	lines := deployCommands(target{Bucket: "backups", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1",
		PG: server{Host: "127.0.0.1", Port: 5432, User: "postgres"}, Maria: server{Host: "127.0.0.1", Port: 3306, User: "root"}})
	lines = append(lines, scheduleCommand(),
		runCommand("manager/0", "create-backup", nil),
		runCommand("manager/0", "create-backup", map[string]any{"application": "mariadb"}),
		runCommand("manager/0", "list-backups", nil),
		runCommand("manager/0", "restore", map[string]any{"backup-id": "job-20000101T000000Z-00000000"}),
		runCommand("manager/0", "show-job", map[string]any{"job-id": "job-1"}),
		runCommand("manager/0", "list-jobs", nil))
	deploys := 0
	for _, l := range lines {
		if err := jujucli.Check(l); err != nil {
			t.Errorf("%s\n\t%v", l, err)
		}
		if strings.HasPrefix(l, "juju deploy ") {
			deploys++
		}
	}
	if deploys != 4 {
		t.Errorf("%d deploy lines, want 4 (manager, s3-integrator, two agents)", deploys)
	}
}
