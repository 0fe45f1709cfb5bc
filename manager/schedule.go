package manager

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// loadSchedule reads the schedule state from the peer databag. An
// unreadable state is dropped with an error in the log: every schedule
// then starts afresh, which can skip one slot but never doubles one.
func (w *world) loadSchedule() {
	st, err := requirer.ParseScheduleStates(w.peer.data[requirer.ScheduleKey])
	if err != nil {
		goops.LogErrorf("%v; the schedules start afresh", err)
		st = requirer.ScheduleStates{}
	}
	w.peer.schedule = st
}

// runSchedule requests the backups the schedules make due (leader only),
// and records what each schedule did in the state savePeer writes in the
// same hook. A slot that finds no usable credentials waits (one catch-up
// backup follows when they come back); one refused by the pending limit is
// skipped and logged.
func (w *world) runSchedule() {
	if w.policyErr != nil || w.peer.id == "" {
		return
	}
	next := requirer.ScheduleStates{}
	for _, app := range sortedKeys(w.rel.databases) {
		sch, ok := w.policy.schedule(app)
		if !ok {
			continue
		}
		old := w.peer.schedule[app]
		d := requirer.Due(sch, old, w.now)
		st := d.State
		if d.Due {
			st = w.scheduledBackup(app, d, old)
		}
		next[app] = st
	}
	w.peer.schedule = next
}

// scheduledBackup requests the backup of app for slot d and returns the
// state to keep.
func (w *world) scheduledBackup(app string, d requirer.Slot, old requirer.ScheduleState) requirer.ScheduleState {
	slot := d.At.Format(time.RFC3339)
	if w.s3.problem != "" {
		goops.LogWarningf("scheduled backup of %s for %s waits: %s", app, slot, w.s3.problem)
		return old
	}
	if err := requirer.CanRequest(w.history, app, dbbackup.Backup, w.cfg.maxPending()); err != nil {
		goops.LogWarningf("scheduled backup of %s for %s skipped: %v", app, slot, err)
		return d.State
	}
	id := requirer.NewJobID(w.now, rand.Reader)
	rec, err := w.newBackup(requirer.Record{
		JobID: id, Application: app, Type: dbbackup.Backup, Compression: true,
		Source: requirer.FromSchedule, Storage: requirer.StorageOf(w.s3.storage), RequestedAt: w.now,
	})
	if err != nil {
		goops.LogWarningf("scheduled backup of %s for %s waits: %v", app, slot, err)
		return old
	}
	h, err := requirer.Request(w.history, rec)
	if err != nil {
		goops.LogWarningf("scheduled backup of %s for %s skipped: %v", app, slot, err)
		return d.State
	}
	w.history = h
	folded := ""
	if d.Missed > 0 {
		folded = fmt.Sprintf(" (catch-up: %d earlier slots missed since %s)", d.Missed, old.Last.Format(time.RFC3339))
	}
	goops.LogInfof("scheduled backup %s of %s requested for %s%s", id, app, slot, folded)
	st := d.State
	st.JobID = id
	return st
}

// nextScheduled returns the earliest next slot among the related
// applications' schedules and its application; zero when none.
func (w *world) nextScheduled() (time.Time, string) {
	var at time.Time
	who := ""
	if w.policyErr != nil {
		return at, who
	}
	for _, app := range sortedKeys(w.rel.databases) {
		sch, ok := w.policy.schedule(app)
		if !ok {
			continue
		}
		n := sch.Next(w.now)
		if !n.IsZero() && (at.IsZero() || n.Before(at)) {
			at, who = n, app
		}
	}
	return at, who
}
