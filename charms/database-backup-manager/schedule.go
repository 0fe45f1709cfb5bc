package main

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// policy is the parsed schedule and retention configuration.
type policy struct {
	schedules   requirer.PerApp // backup-schedule
	count, days requirer.PerApp // retention-count, retention-days
	// parsed holds each expression of schedules, parsed once.
	parsed map[string]requirer.Schedule
}

// parsePolicy reads backup-schedule, retention-count and retention-days;
// the error names the option and the entry.
func parsePolicy(c config) (policy, error) {
	p := policy{parsed: map[string]requirer.Schedule{}}
	var err error
	checkSpec := func(v string) error {
		s, err := requirer.ParseSchedule(v)
		p.parsed[v] = s
		return err
	}
	if p.schedules, err = requirer.ParsePerApp("backup-schedule", c.BackupSchedule, checkSpec); err != nil {
		return policy{}, err
	}
	if p.count, err = requirer.ParsePerApp("retention-count", c.RetentionCount, requirer.CheckRetentionValue); err != nil {
		return policy{}, err
	}
	if p.days, err = requirer.ParsePerApp("retention-days", c.RetentionDays, requirer.CheckRetentionValue); err != nil {
		return policy{}, err
	}
	return p, nil
}

// schedule returns app's schedule, if it has one.
func (p policy) schedule(app string) (requirer.Schedule, bool) {
	s, ok := p.parsed[p.schedules.For(app)]
	return s, ok
}

// retention returns app's retention.
func (p policy) retention(app string) requirer.Retention {
	return requirer.RetentionFor(p.count, p.days, app)
}

// loadSchedule reads the schedule state from the peer databag. An
// unreadable state is dropped with an error in the log: every schedule
// then starts afresh, which can skip one slot but never doubles one.
func (w *world) loadSchedule() {
	st, err := requirer.ParseScheduleStates(w.peer[requirer.ScheduleKey])
	if err != nil {
		goops.LogErrorf("%v; the schedules start afresh", err)
		st = requirer.ScheduleStates{}
	}
	w.schedState = st
}

// runSchedule requests the backups the schedules make due (leader only),
// and records what each schedule did in the state savePeer writes in the
// same hook. A slot that finds no usable credentials waits (one catch-up
// backup follows when they come back); one refused by the pending limit is
// skipped and logged.
func (w *world) runSchedule() {
	if w.policyErr != nil || w.peerID == "" {
		return
	}
	next := requirer.ScheduleStates{}
	for _, app := range sortedKeys(w.databases) {
		sch, ok := w.policy.schedule(app)
		if !ok {
			continue
		}
		old := w.schedState[app]
		d := requirer.Due(sch, old, w.now)
		st := d.State
		if d.Due {
			st = w.scheduledBackup(app, d, old)
		}
		next[app] = st
	}
	w.schedState = next
}

// scheduledBackup requests the backup of app for slot d and returns the
// state to keep.
func (w *world) scheduledBackup(app string, d requirer.Slot, old requirer.ScheduleState) requirer.ScheduleState {
	slot := d.At.Format(time.RFC3339)
	if w.s3Problem != "" {
		goops.LogWarningf("scheduled backup of %s for %s waits: %s", app, slot, w.s3Problem)
		return old
	}
	if err := requirer.CanRequest(w.history, app, dbbackup.Backup, w.cfg.maxPending()); err != nil {
		goops.LogWarningf("scheduled backup of %s for %s skipped: %v", app, slot, err)
		return d.State
	}
	id := requirer.NewJobID(w.now, rand.Reader)
	h, err := requirer.Request(w.history, requirer.Record{
		JobID: id, Application: app, Type: dbbackup.Backup, Compression: true,
		Source: requirer.FromSchedule, Storage: requirer.StorageOf(w.storage), RequestedAt: w.now,
	})
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
	for _, app := range sortedKeys(w.databases) {
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
