package metrics

import (
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Fill sets a's LastSuccess, Last and Counts from jobs: the finished jobs
// the caller's bounded history (or journal) still holds, of a's
// application (or unit), in any order. Only jobs with a final outcome and
// an end count.
//
// Histories drop old jobs, so nothing is recounted from them alone: prev
// is the entry published before, whose last jobs and last success stand
// until newer ones come, and mark the end of the last job its counts
// counted; the jobs that ended after mark are added once. Fill returns
// the new mark, to publish with the counts (Published.Counted).
func (a *App) Fill(jobs []Job, prev App, mark time.Time) time.Time {
	a.Counts = append([]Count(nil), prev.Counts...)
	a.LastSuccess = prev.LastSuccess
	a.Last = nil
	var last [2]*Job
	for i := range prev.Last {
		j := &prev.Last[i]
		if validKind(j.Type, j.Outcome) == nil {
			last[kindIndex(j.Type)] = j
		}
	}
	newMark := mark
	for i := range jobs {
		j := &jobs[i]
		if validKind(j.Type, j.Outcome) != nil || j.Ended.IsZero() {
			continue
		}
		if j.Outcome == dbbackup.Success && j.Type == dbbackup.Backup && j.Ended.After(a.LastSuccess) {
			a.LastSuccess = j.Ended
		}
		k := kindIndex(j.Type)
		if last[k] == nil || j.Ended.After(last[k].Ended) {
			last[k] = j
		}
		if j.Ended.After(mark) {
			a.count(*j)
			if j.Ended.After(newMark) {
				newMark = j.Ended
			}
		}
	}
	for _, j := range last {
		if j != nil {
			a.Last = append(a.Last, *j)
		}
	}
	return newMark
}

// kindIndex is the index of a job type in Fill's table.
func kindIndex(t dbbackup.JobType) int {
	if t == dbbackup.Restore {
		return 1
	}
	return 0
}

// count adds one finished job to a's counts.
func (a *App) count(j Job) {
	secs := 0.0
	if !j.Started.IsZero() && j.Ended.After(j.Started) {
		secs = j.Ended.Sub(j.Started).Seconds()
	}
	for i := range a.Counts {
		c := &a.Counts[i]
		if c.Type == j.Type && c.Outcome == j.Outcome {
			c.Jobs++
			c.Seconds += secs
			return
		}
	}
	a.Counts = append(a.Counts, Count{Type: j.Type, Outcome: j.Outcome, Jobs: 1, Seconds: secs})
}

// Key names a's entry in Published.Counted: the unit, else the
// application.
func (a App) Key() string {
	if a.Unit != "" {
		return a.Unit
	}
	return a.Application
}

// Find returns the entry of app and unit in s.
func (s Snapshot) Find(app, unit string) (App, bool) {
	for _, a := range s.Apps {
		if a.Application == app && a.Unit == unit {
			return a, true
		}
	}
	return App{}, false
}
