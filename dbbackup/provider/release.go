package provider

import (
	"hash/fnv"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// locks counts the jobs that hold a lock: released or running in the table,
// or reported running by a live unit (even if the table lost them).
type locks struct {
	backups, restores int
	load              map[string]int // locked jobs per unit
}

func (l *leader) locks() locks {
	k := locks{load: make(map[string]int, len(l.units))}
	held := make(map[string]bool, len(l.rows))
	add := func(id string, t dbbackup.JobType, unit string) {
		if held[id] {
			return
		}
		held[id] = true
		if t == dbbackup.Restore {
			k.restores++
		} else {
			k.backups++
		}
		if unit != "" {
			k.load[unit]++
		}
	}
	for _, id := range l.ids() {
		if a := l.rows[id]; a.State.holdsLock() {
			add(id, a.Type, a.Unit)
		}
	}
	for _, u := range l.units {
		for _, r := range sortedReports(l.reports[u]) {
			if r.Status == dbbackup.Running {
				add(r.JobID, r.Type, u)
			}
		}
	}
	return k
}

// release releases waiting jobs in the requirer's order: backups freely (up to the per-unit
// cap), a restore only when nothing holds a lock, and nothing after a
// waiting restore, so that a restore is not starved by later backups.
func (l *leader) release() {
	k := l.locks()
	restoreWaiting := false
	for _, e := range l.reqs.order {
		a := l.rows[e.Job.ID]
		if a == nil || a.State != Waiting {
			continue
		}
		if a.Type == dbbackup.Restore {
			if restoreWaiting || k.backups > 0 || k.restores > 0 {
				restoreWaiting = true
				continue
			}
			a.Unit = l.choose(a.JobID, k.load, 0)
			k.restores++
		} else {
			if restoreWaiting || k.restores > 0 {
				continue
			}
			u := l.choose(a.JobID, k.load, l.in.MaxBackupsPerUnit)
			if u == "" {
				continue
			}
			a.Unit = u
			k.backups++
		}
		a.State = Released
		k.load[a.Unit]++
		l.log(EventReleased, a.JobID, a.Unit, string(a.Type))
	}
}

// choose picks the live unit with the fewest locked jobs, below max when
// max > 0; ties go to the highest rendezvous hash of job-id and unit, so
// that every leader picks the same unit. It returns "" when every unit is
// at max.
func (l *leader) choose(id string, load map[string]int, max int) string {
	best, bestLoad, bestHash := "", 0, uint64(0)
	for _, u := range l.units {
		n := load[u]
		if max > 0 && n >= max {
			continue
		}
		h := rendezvous(id, u)
		if best == "" || n < bestLoad || (n == bestLoad && h > bestHash) {
			best, bestLoad, bestHash = u, n, h
		}
	}
	return best
}

// rendezvous hashes a job-id with a unit name.
func rendezvous(id, unit string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(unit))
	return h.Sum64()
}

// sortedReports returns a unit's reports ordered by job-id.
func sortedReports(m map[string]Report) []Report {
	out := make([]Report, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sortByID(out)
	return out
}
