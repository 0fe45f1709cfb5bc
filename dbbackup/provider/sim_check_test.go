package provider

import (
	"sort"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// execution is a job the runner of a live unit is running.
type execution struct {
	unit, id string
	t        dbbackup.JobType
}

// executing lists the jobs the runners of live units are running.
func (s *sim) executing() []execution {
	var out []execution
	for _, name := range s.liveUnits() {
		ids := make([]string, 0, len(s.units[name].runner))
		for id, j := range s.units[name].runner {
			if j.rs.Status == dbbackup.Running {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			out = append(out, execution{name, id, s.units[name].runner[id].rs.Type})
		}
	}
	return out
}

// checkExecution: no restore runs beside another job; no unit runs more
// backups than its cap.
func (s *sim) checkExecution() {
	run := s.executing()
	perUnit := map[string]int{}
	for _, x := range run {
		if x.t == dbbackup.Restore && len(run) > 1 {
			s.fatalf("restore %s runs beside other jobs: %v", x.id, run)
		}
		perUnit[x.unit]++
		if c := s.cfg.maxBackupsPerUnit; c > 0 && perUnit[x.unit] > c {
			s.fatalf("%s runs %d jobs, more than its cap %d", x.unit, perUnit[x.unit], c)
		}
	}
}

// check verifies the invariants after an event.
func (s *sim) check() {
	s.checkExecution()
	rows := s.readTable().byID()
	s.listLen += len(s.reqs)
	reqs := index(s.list())
	// Every running job holds its lock in the table on its unit, listed or not.
	for _, x := range s.executing() {
		a, ok := rows[x.id]
		if !ok || !a.State.holdsLock() || a.Unit != x.unit {
			s.fatalf("%s runs on %s but the table says %+v", x.id, x.unit, a)
		}
		if _, listed := reqs.byID[x.id]; !listed {
			s.stats["lock-kept-for-dropped-"+string(x.t)]++
		}
	}
	// A unit that has not run a hook since the requirer dropped a job may
	// still report it (the requirer ignores it); unitHook checks that a
	// unit's reports hold only listed jobs.
	view := s.view()
	for _, e := range reqs.order {
		s.checkJob(e.Job.ID, view[e.Job.ID], rows)
	}
	s.checkBound(reqs)
}

// checkJob: exactly one unit reports a job, its terminal status never
// changes, and a job no one reports is visibly waiting.
func (s *sim) checkJob(id string, reports []dbbackup.Job, rows map[string]Assignment) {
	s.t.Helper()
	final, finished := s.final[id]
	switch len(reports) {
	case 0:
		// A job no unit reports is waiting, or released or cleared but not
		// started, or started by a hook that failed, or recorded done or
		// settled on a unit that has not run a hook since (when its
		// reporter departed, the requirer keeps the status it saw).
		a, ok := rows[id]
		if !ok {
			s.fatalf("%s is lost: neither in the table nor reported", id)
		}
		u := s.units[a.Unit]
		if a.Unit != "" && u == nil {
			s.fatalf("%s is assigned to %s, which is not live", id, a.Unit)
		}
		final := a.State == Done || a.State == Settled
		switch {
		case final && !(u.basis[id].Unit == a.Unit && (u.basis[id].State == Done || u.basis[id].State == Settled)):
			s.stats["report-lag"]++
		case finished:
			s.fatalf("%s was reported %s and is no longer reported", id, s.final[id])
		case s.invalidIDs[id]:
			s.fatalf("invalid request %s is not reported as error", id)
		case a.State == Waiting:
		case (a.State == Released || a.State == Running) && u.runner[id] == nil:
		case a.State == Running && u.unpublished:
		default:
			s.fatalf("%s is not reported but the table says %+v", id, a)
		}
	case 1:
		r := reports[0]
		if r.Status.Terminal() {
			if finished && r.Status != final {
				s.fatalf("%s was reported %s and is now reported %s (%s)", id, final, r.Status, r.Message)
			}
			s.final[id] = r.Status
			s.stats["message-"+strings.Fields(r.Message + " ok")[0]]++
		} else if finished {
			s.fatalf("%s was reported %s and is now reported %s", id, final, r.Status)
		}
		if s.invalidIDs[id] && (r.Status != dbbackup.Error || !strings.HasPrefix(r.Message, "invalid request: ")) {
			s.fatalf("invalid request %s is reported %s %q", id, r.Status, r.Message)
		}
	default:
		s.fatalf("%s is reported by %d units", id, len(reports))
	}
}

// checkBound: the first waiting restore starts within simBound events
// (plus simDepartureDelay per unit departure), whether or not backups are
// still being added: with no per-unit cap, it waits only for the jobs ahead
// of it in the requirer's list, which are all released already.
func (s *sim) checkBound(reqs requests) {
	if !s.cfg.checkBound {
		return
	}
	head := ""
	rows := s.readTable().byID()
	for _, e := range reqs.order {
		if a := rows[e.Job.ID]; e.Valid() && e.Job.Type == dbbackup.Restore && s.started[e.Job.ID] == "" &&
			(a.State == Waiting || a.State.holdsLock()) {
			head = e.Job.ID
			break
		}
	}
	if head != s.head {
		s.head, s.headSince, s.slack = head, s.step, 0
		if head != "" {
			s.stats["bound-checked-restores"]++
		}
	}
	if bound := simBound + s.slack; head != "" && s.step-s.headSince > bound {
		s.fatalf("restore %s waits for %d events, more than %d", head, s.step-s.headSince, bound)
	}
}

func (s *sim) drained() bool {
	if len(s.executing()) > 0 {
		return false
	}
	reqs := index(s.list())
	view := s.view()
	for _, e := range reqs.order {
		if r := view[e.Job.ID]; len(r) != 1 || !r[0].Status.Terminal() {
			return false
		}
	}
	table := s.readTable()
	for _, a := range table {
		if _, ok := reqs.byID[a.JobID]; !ok || a.State.holdsLock() {
			return false
		}
	}
	return true
}
