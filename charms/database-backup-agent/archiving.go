package main

import (
	"fmt"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
)

// archivingRule decides whether this unit runs the log archiver. Every
// unit of the application reads the same database server (the host of
// config host, or the first endpoint the database charm gives), whose
// logs are the whole server's: exactly one unit must stream them, and
// that is the leader, the one unit Juju guarantees. With archive-logs off,
// every unit asks its runner to release the replication slot (see
// backupagent.Archiving.Release); a unit that is not the leader with
// archive-logs on leaves it to the leader's archiver.
func archivingRule(c config) (backupagent.Archiving, error) {
	warn, _ := c.warnRetained()
	if !c.ArchiveLogs {
		return backupagent.Archiving{Release: true}, nil
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return backupagent.Archiving{}, fmt.Errorf("cannot tell leadership: %w", err)
	}
	if !leader {
		return backupagent.Archiving{Why: "the leader archives the logs"}, nil
	}
	return backupagent.Archiving{On: true, WarnRetained: warn}, nil
}
