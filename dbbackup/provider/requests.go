package provider

import (
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// requests is the requirer's list reduced to one entry per usable job-id,
// in list order, plus the entries that cannot be assigned.
type requests struct {
	order   []*dbbackup.Entry
	byID    map[string]*dbbackup.Entry
	skipped []*dbbackup.Entry
}

// index reduces a parsed list: the first entry with a job-id wins; entries
// without a job-id (it was missing or invalid) and later duplicates are
// skipped.
func index(l dbbackup.List) requests {
	r := requests{byID: make(map[string]*dbbackup.Entry, len(l.Entries)), order: make([]*dbbackup.Entry, 0, len(l.Entries))}
	for i := range l.Entries {
		e := &l.Entries[i]
		if _, dup := r.byID[e.Job.ID]; e.Job.ID == "" || dup {
			r.skipped = append(r.skipped, e)
			continue
		}
		r.byID[e.Job.ID] = e
		r.order = append(r.order, e)
	}
	return r
}

// jobType returns the type of a requested job, "backup" (the v0 schema's
// default) when the request had none or an invalid one.
func jobType(j dbbackup.Job) dbbackup.JobType {
	if j.Type == dbbackup.Restore {
		return dbbackup.Restore
	}
	return dbbackup.Backup
}

// problemText is the error message reported for an invalid request: all
// its problems, "path: message", joined by "; ".
func problemText(e *dbbackup.Entry) string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// New returns the requested entries with a usable job-id that the table
// does not hold yet, in list order: the jobs the provider sees for the first
// time (for logging and status).
func New(l dbbackup.List, table Assignments) []dbbackup.Entry {
	have := table.byID()
	var out []dbbackup.Entry
	for _, e := range index(l).order {
		if _, ok := have[e.Job.ID]; !ok {
			out = append(out, *e)
		}
	}
	return out
}
