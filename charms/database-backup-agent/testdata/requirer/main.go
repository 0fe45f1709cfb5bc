// Command requirer is a test charm playing the backup manager: its leader
// writes the jobs list of its config into the database-backup relation.
package main

import (
	"os"

	"github.com/gruyaume/goops"
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
		if err := goops.SetAppRelationData(id, map[string]string{"jobs": c.Jobs}); err != nil {
			return err
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, "")
}
