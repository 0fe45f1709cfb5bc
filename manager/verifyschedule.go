package manager

import (
	"context"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

const (
	// verifyScheduleKey holds, in the peer application databag, the last
	// slot each application's verify-schedule handled.
	verifyScheduleKey = "verify-schedule-state"
	// verifyHookTimeout bounds the verifications one hook runs: a hook
	// must not hold the unit for long.
	verifyHookTimeout = 15 * time.Minute
)

// runVerifySchedule verifies, on the leader, the newest complete backup of
// each application whose verify-schedule slot came since the last hook
// (one verification for any number of missed slots), and keeps the
// outcome as verify-backup does (source "schedule"). Slots are seen by the
// hooks (update-status at the latest), like retention's runs; a slot that
// finds no usable credentials waits for them.
func (w *world) runVerifySchedule() {
	if w.policyErr != nil || w.peer.id == "" {
		return
	}
	next := requirer.ScheduleStates{}
	for _, app := range sortedKeys(w.rel.databases) {
		sch, ok := w.policy.parsed[w.policy.verify.For(app)]
		if !ok {
			continue
		}
		old := w.peer.verifySchedule[app]
		d := requirer.Due(sch, old, w.now)
		next[app] = d.State
		if !d.Due {
			continue
		}
		if w.s3.problem != "" {
			goops.LogWarningf("scheduled verification of %s waits: %s", app, w.s3.problem)
			next[app] = old
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), verifyHookTimeout)
		vs, err := w.verify(ctx, "", app, "schedule")
		cancel()
		if err != nil {
			goops.LogWarningf("scheduled verification of %s: %v", app, err)
			continue
		}
		for _, v := range vs {
			if !v.OK {
				goops.LogErrorf("scheduled verification: backup %s of %s FAILED: %s", v.BackupID, v.Application, v.Message)
			}
		}
	}
	w.peer.verifySchedule = next
}
