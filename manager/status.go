package manager

import (
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// statusInput is what the unit status is computed from.
type statusInput struct {
	now       time.Time
	s3Problem string   // why there are no usable credentials
	check     s3Check  // the last bucket check
	databases []string // the related applications
	history   requirer.History
	policyErr error     // why backup-schedule or retention is unusable
	next      time.Time // the next scheduled backup, zero when none
	nextApp   string    // the application of next
	// encProblem says why encryption-secret is unusable: no backup is
	// requested then (encryption.go).
	encProblem string
	seedOnly   []string // related applications served in the seed's format
	// stale warns of a last successful backup older than its threshold
	// (staleText); empty when none is.
	stale string
	// metricsErr says why metrics-address or backup-max-age is unusable.
	metricsErr error
}

// maxStatus bounds the status message.
const maxStatus = 160

// unitStatus returns the status that tells the admin the latest outcome or
// what blocks the manager. A blocked status is computed afresh by every
// hook, so it clears as soon as its cause is gone.
func unitStatus(in statusInput) (goops.StatusName, string) {
	if in.policyErr != nil {
		return goops.StatusBlocked, clipText("invalid config: "+in.policyErr.Error(), maxStatus)
	}
	if in.metricsErr != nil {
		return goops.StatusBlocked, clipText("invalid config: "+in.metricsErr.Error(), maxStatus)
	}
	st, msg := unitStatusFull(in)
	if len(in.seedOnly) > 0 && st == goops.StatusActive {
		msg += "; " + seedNote + strings.Join(in.seedOnly, ", ")
	}
	if in.stale != "" && st == goops.StatusActive {
		// What an admin must act on comes first.
		return st, clipText(in.stale+"; "+msg, maxStatus)
	}
	if !in.next.IsZero() && st == goops.StatusActive {
		// The next due time is what an admin checks a schedule by: it
		// comes first when the message must be cut.
		next := fmt.Sprintf("next backup of %s %s", in.nextApp, in.next.UTC().Format("2006-01-02T15:04Z"))
		return st, clipText(next+"; "+msg, maxStatus)
	}
	return st, clipText(msg, maxStatus)
}

func unitStatusFull(in statusInput) (goops.StatusName, string) {
	switch {
	case in.s3Problem != "":
		return goops.StatusBlocked, in.s3Problem
	case !in.check.OK:
		short := in.check.Short
		if short == "" {
			short = in.check.Message
		}
		return goops.StatusBlocked, "s3 bucket unusable: " + short
	case in.encProblem != "":
		return goops.StatusBlocked, in.encProblem
	}
	var restore, backup *requirer.Record
	var last *requirer.Record
	for i := range in.history.Records {
		r := &in.history.Records[i]
		switch {
		case !r.Status.Terminal() && r.Type == dbbackup.Restore && restore == nil:
			restore = r
		case !r.Status.Terminal() && backup == nil:
			backup = r
		case r.Status.Terminal() && (last == nil || !r.FinishedAt.Before(last.FinishedAt)):
			last = r
		}
	}
	switch {
	case restore != nil:
		return goops.StatusWaiting, pendingText(*restore)
	case backup != nil:
		return goops.StatusActive, pendingText(*backup)
	case len(in.databases) == 0:
		return goops.StatusBlocked, "no database related: integrate a database-backup provider"
	case last == nil:
		return goops.StatusActive, "ready: no backup yet"
	}
	msg := fmt.Sprintf("last %s of %s %s: %s", last.Type, last.Application, ago(in.now, last.FinishedAt), last.Status)
	if last.Status != dbbackup.Success && last.Message != "" {
		msg += ": " + last.Message
	}
	return goops.StatusActive, msg
}

// pendingText says where a waiting or running job is.
func pendingText(r requirer.Record) string {
	if r.Status == dbbackup.Running {
		return fmt.Sprintf("%s %s running on %s", r.Type, r.JobID, r.Unit)
	}
	return fmt.Sprintf("%s %s waiting for a unit of %s", r.Type, r.JobID, r.Application)
}

// ago says how long ago t was, in the largest whole unit.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// clipText keeps s on one line and cuts it to n bytes on a rune boundary.
func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// setStatus sets this unit's status, and the application's on the leader.
func (w *world) setStatus() error {
	if w.historyErr != nil {
		msg := clipText("job history unreadable: see juju debug-log; nothing is requested until it reads", maxStatus)
		if err := goops.SetUnitStatus(goops.StatusBlocked, msg); err != nil {
			return fmt.Errorf("cannot set the unit status: %w", err)
		}
		if w.leader {
			return goops.SetAppStatus(goops.StatusBlocked, msg)
		}
		return nil
	}
	next, nextApp := w.nextScheduled()
	_, metricsErr := w.cfg.metricsConfig()
	st, msg := unitStatus(statusInput{
		now: w.now, s3Problem: w.s3.problem, check: w.peer.check,
		databases: sortedKeys(w.rel.databases), history: w.history,
		policyErr: w.policyErr, next: next, nextApp: nextApp, encProblem: w.enc.problem,
		seedOnly: w.seedOnly(),
		stale:    w.staleText(), metricsErr: metricsErr,
	})
	msg = secret.Scrub(msg, w.secrets())
	if err := goops.SetUnitStatus(st, msg); err != nil {
		return fmt.Errorf("cannot set the unit status: %w", err)
	}
	if w.leader {
		if err := goops.SetAppStatus(st, msg); err != nil {
			return fmt.Errorf("cannot set the application status: %w", err)
		}
	}
	return nil
}
