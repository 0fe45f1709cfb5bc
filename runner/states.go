package runner

import (
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/provider"
)

// RunStates turns journal records into what dbbackup/provider's UnitPlan
// expects: a job the journal holds has started, from the plan's point of
// view (pending counts as running: it will run and must never be handed out
// again).
func RunStates(recs []Record) map[string]provider.RunState {
	out := make(map[string]provider.RunState, len(recs))
	for _, r := range recs {
		rs := provider.RunState{Type: r.Type, ArtefactPath: r.ArtefactPath}
		switch r.State {
		case Success:
			rs.Status = dbbackup.Success
		case Error:
			rs.Status, rs.Message = dbbackup.Error, r.Message
		default:
			rs.Status, rs.Message = dbbackup.Running, r.Message
		}
		out[r.JobID] = rs
	}
	return out
}
