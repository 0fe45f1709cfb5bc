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
	lines := deployCommands(target{Bucket: "backups", Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", Host: "127.0.0.1", Port: 5432, User: "postgres"})
	lines = append(lines, scheduleCommand(),
		runCommand("manager/0", "create-backup", nil),
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
	if deploys != 3 {
		t.Errorf("%d deploy lines, want 3 (manager, s3-integrator, agent)", deploys)
	}
}
