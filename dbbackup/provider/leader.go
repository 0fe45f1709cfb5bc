package provider

import (
	"fmt"
	"sort"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// LeaderInput is everything the provider leader knows when it assigns.
type LeaderInput struct {
	// Leader is the leader's own unit name; it is always live, and it
	// reports the jobs whose outcome the leader decides.
	Leader string
	// Units are the live units of the provider (those that have joined
	// the peer relation, and the leader), in any order.
	Units []string
	// Requested is the requirer's parsed jobs list, invalid entries included.
	Requested dbbackup.List
	// Table is the assignment table the leader wrote last (empty at first).
	Table Assignments
	// Reports holds each unit's peer reports. Reports of units that are
	// not live are ignored.
	Reports map[string][]Report
	// MaxBackupsPerUnit caps the jobs released to one unit at a time when
	// releasing a backup; 0 means no cap.
	MaxBackupsPerUnit int
}

// Plan is the leader's decision: the table to write and what was decided.
type Plan struct {
	// Table is the new assignment table. It depends on the input only
	// (not on map order), so writing it again is a no-op.
	Table Assignments
	// Events are the decisions taken, for the log.
	Events []Event
}

// leader holds the working state of one Assign call.
type leader struct {
	in      LeaderInput
	units   []string
	live    map[string]bool
	reqs    requests
	reports map[string]map[string]Report
	rows    map[string]*Assignment
	sorted  []string // the keys of rows, sorted; nil when stale
	events  []Event
}

// Assign decides, for the provider leader, which unit runs each requested
// job and which jobs are released now; see the package documentation for
// the rules.
func Assign(in LeaderInput) Plan {
	l := newLeader(in)
	if len(l.units) == 0 {
		return Plan{Table: append(Assignments(nil), in.Table...), Events: []Event{{Kind: EventSkipped, Text: "no live unit: nothing assigned"}}}
	}
	l.skip()
	l.observe()
	l.departures()
	l.adopt()
	l.admit()
	l.collect()
	l.release()
	return Plan{Table: l.table(), Events: l.events}
}

func newLeader(in LeaderInput) *leader {
	l := &leader{in: in, live: map[string]bool{}, reqs: index(in.Requested), rows: map[string]*Assignment{}}
	for _, u := range append([]string{in.Leader}, in.Units...) {
		if u != "" && !l.live[u] {
			l.live[u] = true
			l.units = append(l.units, u)
		}
	}
	sort.Strings(l.units)
	if l.in.Leader == "" && len(l.units) > 0 {
		l.in.Leader = l.units[0]
	}
	l.reports = make(map[string]map[string]Report, len(l.units))
	for _, u := range l.units {
		m := make(map[string]Report, len(in.Reports[u]))
		for _, r := range in.Reports[u] {
			m[r.JobID] = r
		}
		l.reports[u] = m
	}
	for _, a := range in.Table {
		if _, dup := l.rows[a.JobID]; !dup {
			a := a
			l.rows[a.JobID] = &a
		}
	}
	return l
}

func (l *leader) log(kind EventKind, id, unit, text string) {
	l.events = append(l.events, Event{Kind: kind, JobID: id, Unit: unit, Text: text})
}

// ids returns the job-ids of the rows, sorted, for deterministic loops.
// The slice is cached until a row is added or removed (see put, remove).
func (l *leader) ids() []string {
	if l.sorted == nil {
		l.sorted = make([]string, 0, len(l.rows))
		for id := range l.rows {
			l.sorted = append(l.sorted, id)
		}
		sort.Strings(l.sorted)
	}
	return l.sorted
}

// put adds or replaces a row.
func (l *leader) put(a *Assignment) {
	if _, ok := l.rows[a.JobID]; !ok {
		l.sorted = nil
	}
	l.rows[a.JobID] = a
}

// remove deletes a row.
func (l *leader) remove(id string) {
	delete(l.rows, id)
	l.sorted = nil
}

// listed reports whether the requirer lists the job.
func (l *leader) listed(id string) bool {
	_, ok := l.reqs.byID[id]
	return ok
}

// skip logs the entries that cannot be assigned.
func (l *leader) skip() {
	for _, e := range l.reqs.skipped {
		text := fmt.Sprintf("jobs[%d] has no usable job-id", e.Index)
		if e.Job.ID != "" {
			text = fmt.Sprintf("jobs[%d] repeats a job-id", e.Index)
		}
		if len(e.Problems) > 0 {
			text += ": " + e.Problems.Error()
		}
		l.log(EventSkipped, e.Job.ID, "", text)
	}
}

// observe moves released and running jobs on by their unit's report.
func (l *leader) observe() {
	for _, id := range l.ids() {
		a := l.rows[id]
		if !a.State.holdsLock() || !l.live[a.Unit] {
			continue
		}
		r, ok := l.reports[a.Unit][id]
		switch {
		case !ok:
		case r.Status.Terminal():
			a.State, a.Outcome = Done, r.outcome()
			l.log(EventFinished, id, a.Unit, string(r.Status))
		case (r.Status == dbbackup.Accepted || r.Status == dbbackup.Running) && a.State == Released:
			a.State = Running
			l.log(EventStarted, id, a.Unit, "the unit acknowledged the job; it may start it")
		}
	}
}

// departures handles the jobs whose unit is no longer live.
func (l *leader) departures() {
	for _, id := range l.ids() {
		a := l.rows[id]
		if a.Unit == "" || l.live[a.Unit] {
			continue
		}
		gone := a.Unit
		switch a.State {
		case Released:
			a.State, a.Unit = Waiting, ""
			l.log(EventReassigned, id, gone, "the unit departed before starting the job; it waits to be released again")
		case Running:
			msg := fmt.Sprintf("unit %s departed while running the job", gone)
			a.State, a.Unit, a.Outcome = Settled, l.in.Leader, &Outcome{Status: dbbackup.Error, Message: msg}
			l.log(EventFailed, id, a.Unit, msg)
		case Done, Settled:
			if !l.listed(id) {
				continue // removed below
			}
			a.State, a.Unit = Settled, l.in.Leader
			l.log(EventMoved, id, a.Unit, "unit "+gone+" departed; this unit reports the outcome")
		}
	}
}

// adopt assigns jobs a live unit reports but the table does not hold (or
// holds as waiting) to that unit: the report wins over a lost table.
func (l *leader) adopt() {
	for _, u := range l.units {
		ids := make([]string, 0, len(l.reports[u]))
		for id := range l.reports[u] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			r := l.reports[u][id]
			if a, ok := l.rows[id]; ok && a.State != Waiting {
				continue
			}
			switch {
			case r.Status == dbbackup.Running:
				l.put(&Assignment{JobID: id, Type: r.Type, State: Running, Unit: u})
			case r.Status.Terminal() && l.listed(id):
				l.put(&Assignment{JobID: id, Type: r.Type, State: Done, Unit: u, Outcome: r.outcome()})
			default:
				continue
			}
			l.log(EventAdopted, id, u, "the unit reports "+string(r.Status)+" for a job the table did not hold")
		}
	}
}

// admit adds the new requests and settles waiting ones that are invalid.
func (l *leader) admit() {
	for _, e := range l.reqs.order {
		id := e.Job.ID
		a, ok := l.rows[id]
		if ok && a.State != Waiting {
			continue
		}
		if !e.Valid() {
			msg := problemText(e)
			l.put(&Assignment{JobID: id, Type: jobType(e.Job), State: Settled, Unit: l.in.Leader,
				Outcome: &Outcome{Status: dbbackup.Error, Message: msg}})
			l.log(EventInvalid, id, l.in.Leader, msg)
			continue
		}
		if !ok {
			l.put(&Assignment{JobID: id, Type: jobType(e.Job), State: Waiting})
			l.log(EventNew, id, "", string(jobType(e.Job)))
			continue
		}
		a.Type = jobType(e.Job)
	}
}

// collect removes the jobs the requirer no longer lists, except those that
// still hold a lock: they stay until their unit reports them terminal or
// departs.
func (l *leader) collect() {
	for _, id := range l.ids() {
		if a := l.rows[id]; !l.listed(id) && !a.State.holdsLock() {
			l.remove(id)
			l.log(EventRemoved, id, a.Unit, "the requirer no longer lists the job")
		}
	}
}

// table returns the rows in table order: listed jobs in list order, then
// the others by job-id.
func (l *leader) table() Assignments {
	out := make(Assignments, 0, len(l.rows))
	done := make(map[string]bool, len(l.rows))
	for _, e := range l.reqs.order {
		if a, ok := l.rows[e.Job.ID]; ok {
			out = append(out, *a)
			done[a.JobID] = true
		}
	}
	for _, id := range l.ids() {
		if !done[id] {
			out = append(out, *l.rows[id])
		}
	}
	return out
}
