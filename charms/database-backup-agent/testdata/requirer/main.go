// Command requirer is a test charm playing the backup manager: its leader
// writes the jobs list of its config into the database-backup relation.
package main

import (
	"os"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
)

func main() {
	if err := run(); err != nil {
		goops.LogErrorf("%v", err)
		os.Exit(1)
	}
}

func run() error {
	var c struct {
		Jobs string `json:"jobs"`
	}
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs("database-backup")
	if err != nil {
		return err
	}
	for _, id := range ids {
		// through a file: a long list exceeds a command-line argument
		if err := backupagent.SetRelationData(id, true, map[string]string{"jobs": c.Jobs}); err != nil {
			return err
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, "")
}
