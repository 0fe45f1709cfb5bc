package runner

import (
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/provider"
)

// RunStates turns journal records into what dbbackup/provider's UnitPlan
// expects: each record's status as the wire says it (dbbackup.Status.Wire).
// A job the journal holds has started, from the plan's point of view:
// pending is running (it will run and must never be handed out again), and
// so is a status this version does not know.
func RunStates(recs []Record) map[string]provider.RunState {
	out := make(map[string]provider.RunState, len(recs))
	for _, r := range recs {
		st := r.Status.Wire()
		if st == "" {
			st = dbbackup.Running
		}
		out[r.JobID] = provider.RunState{Type: r.Type, Status: st, Message: r.Message, ArtefactPath: r.ArtefactPath}
	}
	return out
}
