package requirer

import (
	"fmt"
	"slices"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// observation is one unit's report of one job of the history.
type observation struct {
	rec  int // index of the record in the history
	unit string
	job  *dbbackup.Job // in the caller's reports, read only
}

// Merge folds the reports of app's units into h at time now and returns the
// new history with what changed, following the rules of the package doc.
// reports maps each live unit of app to the jobs it reports (the valid
// entries of its parsed jobs field). lostAfter is the lost timeout; zero or
// less never marks a job lost. Call it with nil reports for an application
// that is no longer related, so that its pending jobs end as lost in time.
// Terminal records beyond MaxCompleted or MaxHistoryBytes are compacted.
func Merge(h History, app string, reports map[string][]dbbackup.Job, now time.Time, lostAfter time.Duration) (History, []Change) {
	now = stamp(now)
	out := h.clone()
	obs, changes := observe(out, app, reports)
	best := make([]int32, len(out.Records))
	for i := range best {
		best[i] = -1
	}
	for k, o := range obs {
		if b := best[o.rec]; b < 0 || beats(o, obs[b], out.Records[o.rec]) {
			best[o.rec] = int32(k)
		}
	}
	for k, o := range obs {
		if c, ok := ignoredReport(out.Records[o.rec], o, k, obs, best); ok {
			changes = append(changes, c)
		}
	}
	for i, rec := range out.Records {
		if rec.Application != app || rec.Status.Terminal() {
			continue
		}
		var c Change
		var ok bool
		if best[i] < 0 {
			rec, c, ok = expire(rec, now, lostAfter)
		} else {
			rec, c, ok = apply(rec, obs[best[i]], now)
		}
		out.Records[i] = rec
		if ok {
			changes = append(changes, c)
		}
	}
	out, _ = Compact(out, MaxCompleted, MaxHistoryBytes)
	return out, changes
}

// observe matches each report to its record, in unit order; reports that
// match no request of app are returned as Ignored changes.
func observe(h History, app string, reports map[string][]dbbackup.Job) ([]observation, []Change) {
	units := make([]string, 0, len(reports))
	n := 0
	for u, jobs := range reports {
		units = append(units, u)
		n += len(jobs)
	}
	slices.SortFunc(units, func(a, b string) int {
		if unitLess(a, b) {
			return -1
		}
		if unitLess(b, a) {
			return 1
		}
		return 0
	})
	obs := make([]observation, 0, n)
	var changes []Change
	for _, u := range units {
		for k := range reports[u] {
			j := &reports[u][k]
			ignore := func(note string) {
				changes = append(changes, Change{Kind: Ignored, JobID: j.ID, Application: app, Unit: u, Note: note})
			}
			i, found := h.index(j.ID)
			switch {
			case !found || h.Records[i].Application != app:
				ignore("not a job this manager requested for " + app)
			case j.Type != h.Records[i].Type:
				ignore(fmt.Sprintf("reported as a %s, requested as a %s", j.Type, h.Records[i].Type))
			case !j.Status.OnWire():
				ignore(fmt.Sprintf("unknown status %q", clipID(string(j.Status))))
			default:
				obs = append(obs, observation{rec: i, unit: u, job: j})
			}
		}
	}
	return obs, changes
}

// beats reports whether o is preferred to cur for rec: terminal beats
// running, then the unit recorded for the job, then the smallest unit name.
func beats(o, cur observation, rec Record) bool {
	if ot, ct := o.job.Status.Terminal(), cur.job.Status.Terminal(); ot != ct {
		return ot
	}
	if om, cm := o.unit == rec.Unit, cur.unit == rec.Unit; om != cm {
		return om
	}
	return unitLess(o.unit, cur.unit)
}

// ignoredReport explains why observation k is not used, if it is not: it
// disagrees with a terminal record, or another unit's report was preferred.
// A report that agrees with a terminal record is quietly consistent.
func ignoredReport(rec Record, o observation, k int, obs []observation, best []int32) (Change, bool) {
	c := Change{Kind: Ignored, JobID: rec.JobID, Application: rec.Application, Unit: o.unit, From: rec.Status, To: rec.Status}
	switch {
	case rec.Status.Terminal():
		if o.job.Status == rec.Status {
			return c, false
		}
		c.Note = fmt.Sprintf("reports %s, but the job is already %s", o.job.Status, rec.Status)
	case int(best[o.rec]) != k:
		b := obs[best[o.rec]]
		c.Note = fmt.Sprintf("reports %s; %s's report (%s) is preferred", o.job.Status, b.unit, b.job.Status)
	default:
		return c, false
	}
	return c, true
}

// apply moves a non-terminal record on by the preferred report o.
func apply(rec Record, o observation, now time.Time) (Record, Change, bool) {
	c := Change{JobID: rec.JobID, Application: rec.Application, Unit: o.unit, From: rec.Status}
	prevUnit := rec.Unit
	rec.Unit, rec.SeenAt = o.unit, now
	rec.Message = clip(o.job.Message)
	if rec.Type == dbbackup.Backup && o.job.ArtefactPath != "" {
		rec.ArtefactPath = o.job.ArtefactPath
	}
	switch {
	case o.job.Status.Terminal():
		rec.Status, rec.FinishedAt = o.job.Status, now
		c.Kind, c.Note = Finished, rec.Message
	case rec.Status == dbbackup.Waiting:
		rec.Status, rec.StartedAt = dbbackup.Running, now
		c.Kind = Started
	case prevUnit != o.unit:
		c.Kind = Moved
		c.Note = "was running on " + prevUnit
	default:
		return rec, c, false
	}
	c.To = rec.Status
	return rec, c, true
}

// expire marks a non-terminal record that no unit reports as lost once
// lostAfter has passed since it was requested or last seen.
func expire(rec Record, now time.Time, lostAfter time.Duration) (Record, Change, bool) {
	last := rec.SeenAt
	if last.IsZero() {
		last = rec.RequestedAt
	}
	if lostAfter <= 0 || now.Sub(last) <= lostAfter {
		return rec, Change{}, false
	}
	c := Change{Kind: MarkedLost, JobID: rec.JobID, Application: rec.Application, From: rec.Status, To: dbbackup.Lost}
	if rec.Status == dbbackup.Waiting {
		rec.Message = fmt.Sprintf("no unit of %s picked it up within %s of the request", rec.Application, lostAfter)
	} else {
		rec.Message = fmt.Sprintf("last reported running by %s at %s; no unit has reported it for more than %s",
			rec.Unit, timeText(rec.SeenAt), lostAfter)
	}
	c.Note = rec.Message
	rec.Status, rec.FinishedAt = dbbackup.Lost, now
	return rec, c, true
}
