package requirer

import (
	"slices"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Row is one job as list-jobs, show-job and dbbackup jobs show it.
type Row struct {
	// JobID is the job-id.
	JobID string
	// Application is the related database application.
	Application string
	// Type is backup or restore.
	Type dbbackup.JobType
	// Status is waiting, running, success, error or lost (waiting from MergeDatabags: requested, no unit reports it).
	Status dbbackup.Status
	// Unit is the unit running it or that finished it.
	Unit string
	// Source says what requested it; empty when unknown.
	Source Source
	// RequestedAt, StartedAt and FinishedAt are zero when unknown.
	RequestedAt, StartedAt, FinishedAt time.Time
	// ArtefactPath is the backup's location, or the backup a restore reads.
	ArtefactPath string
	// Message is the unit's message or the manager's reason.
	Message string
}

// View returns one row per record of h, sorted by job id (request time).
func View(h History) []Row {
	rows := make([]Row, len(h.Records))
	for i, r := range h.Records {
		rows[i] = Row{
			JobID: r.JobID, Application: r.Application, Type: r.Type, Status: r.Status,
			Unit: r.Unit, Source: r.Source, RequestedAt: r.RequestedAt, StartedAt: r.StartedAt,
			FinishedAt: r.FinishedAt, ArtefactPath: r.ArtefactPath, Message: r.Message,
		}
	}
	return rows
}

// MergeDatabags merges one snapshot of a relation without any history, for
// a command that only sees `juju show-unit`: the jobs the manager requests
// and each provider unit's report (unit name to its parsed jobs). Only valid
// entries are used; show the lists' problems beside the rows. A requested
// job that no unit reports is waiting, as in a history. A reported job the manager
// no longer requests is still shown (the manager removes finished jobs from
// its databag). Among several reports of a job, a terminal one beats a
// running one, then the smallest unit name wins. Rows are sorted by job id;
// times are unknown and left zero.
func MergeDatabags(requested dbbackup.List, reports map[string]dbbackup.List) []Row {
	rows := map[string]*Row{}
	apps := map[string]bool{}
	for u := range reports {
		apps[appOf(u)] = true
	}
	commonApp := ""
	if len(apps) == 1 {
		for a := range apps {
			commonApp = a
		}
	}
	for _, j := range requested.Jobs() {
		rows[j.ID] = &Row{JobID: j.ID, Application: commonApp, Type: j.Type, Status: dbbackup.Waiting, ArtefactPath: j.ArtefactPath}
	}
	best := map[string]observation{}
	for u, l := range reports {
		jobs := l.Jobs()
		for k := range jobs {
			j := &jobs[k]
			o := observation{unit: u, job: j}
			if b, ok := best[j.ID]; !ok || beats(o, b, Record{}) {
				best[j.ID] = o
			}
		}
	}
	for id, o := range best {
		r, ok := rows[id]
		if !ok {
			r = &Row{JobID: id, Type: o.job.Type}
			rows[id] = r
		}
		r.Application, r.Unit = appOf(o.unit), o.unit
		r.Status, r.Message = o.job.Status, o.job.Message
		if o.job.ArtefactPath != "" {
			r.ArtefactPath = o.job.ArtefactPath
		}
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int { return strings.Compare(a.JobID, b.JobID) })
	return out
}
