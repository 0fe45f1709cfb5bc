package backupagent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dbbackup/dbbackup/internal/flock"
	"github.com/dbbackup/dbbackup/runner"
)

// recoverPhysical finishes what a physical restore killed midway (the
// runner SIGKILLed, the machine rebooted) left beside the data
// directory, so that an interrupted restore leaves the database as it
// was: a restore that had moved the data directory aside has the old one
// put back and the server started on it; one whose server was promoted
// already has the old one removed. Stage folders a running restore holds
// (its lock) are left alone. The runner calls it once, at its first check.
func (e *Executor) recoverPhysical(db Database) {
	if db.DataDir == "" {
		return
	}
	log := e.Log
	if log == nil {
		log = io.Discard
	}
	stages, _ := filepath.Glob(filepath.Join(filepath.Dir(db.DataDir), ".dbbackup-restore-*"))
	for _, stage := range stages {
		if flock.Held(filepath.Join(stage, "lock")) {
			continue
		}
		var st restoreState
		err := (runner.Journal{Dir: stage}).Value(restoreStateValue, &st)
		// Where the restore kept the old data directory follows from the
		// stage's name alone (the file in it is the server user's).
		before := db.DataDir + ".dbbackup-before-" + strings.TrimPrefix(filepath.Base(stage), ".dbbackup-restore-")
		p := &physicalRestore{dir: db.DataDir, before: before, stage: stage, log: log}
		switch {
		case errors.Is(err, runner.ErrNoValue):
			// Killed before the server was stopped: nothing changed.
		case err != nil:
			fmt.Fprintf(log, "an interrupted restore's %s cannot be read (%v): left as it is\n", stage, err)
			continue
		case st.State == "promoted":
			if err := os.RemoveAll(before); err != nil {
				fmt.Fprintf(log, "cannot remove the old data directory %s: %v\n", before, err)
			}
		case st.State == "swapped":
			fmt.Fprintf(log, "%v\n", e.rollBackInterrupted(p, db))
		default:
			fmt.Fprintf(log, "an interrupted restore's %s says %q: left as it is\n", stage, st.State)
			continue
		}
		p.removeStage()
	}
}

// rollBackInterrupted puts back the data directory of a restore that
// was killed after it stopped the server.
func (e *Executor) rollBackInterrupted(p *physicalRestore, db Database) error {
	ctl, err := e.serverControl(db)
	if err != nil || ctl == nil {
		return fmt.Errorf("a restore was interrupted after it stopped the server, and no server-control is configured to put %s back: %v", p.before, err)
	}
	p.ctl = ctl
	return p.rollBack(errors.New("a restore was interrupted after it stopped the server"))
}
