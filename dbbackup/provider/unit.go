package provider

import (
	"sort"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Messages of the errors a unit reports on its own.
const (
	// MsgNotListed: a job released to the unit was dropped by the requirer
	// before the unit started it; it is never started.
	MsgNotListed = "not started: the requirer no longer lists the job"
)

// UnitInput is everything one provider unit knows when it plans.
type UnitInput struct {
	// Unit is this unit's name.
	Unit string
	// Requested is the requirer's parsed jobs list, invalid entries included.
	Requested dbbackup.List
	// Table is the leader's assignment table as this unit reads it.
	Table Assignments
	// Runner is what this unit's runner knows, by job-id.
	Runner map[string]RunState
}

// UnitDecision is what one unit does and says.
type UnitDecision struct {
	// Start are the jobs to start now, as requested (with credentials, for
	// the runner only), in the requirer's order.
	Start []dbbackup.Job
	// Reports is the exact jobs list for this unit's database_backup unit
	// databag, in the requirer's order, credentials masked.
	Reports []dbbackup.Job
	// Peer is the exact list for this unit's peer unit databag, for the
	// leader (see MarshalReports).
	Peer []Report
}

// UnitPlan decides, for one provider unit, which jobs to start and what to
// report; see the package documentation for the rules. A job the unit is
// told to start is reported once the runner knows it: start the jobs, then
// call UnitPlan again with the runner's new state to get the reports.
func UnitPlan(in UnitInput) UnitDecision {
	reqs := index(in.Requested)
	outs := make(map[string]Outcome)
	var d UnitDecision
	mine := make(map[string]bool)
	for _, a := range in.Table {
		if a.Unit != in.Unit || mine[a.JobID] {
			continue
		}
		mine[a.JobID] = true
		if a.Outcome == nil && (a.State == Settled || a.State == Done) {
			continue // not written by Assign; ParseAssignments rejects it
		}
		e, listed := reqs.byID[a.JobID]
		rs := in.Runner[a.JobID]
		report, peer, start := decide(a, rs, e, listed)
		if peer == nil && rs.Status == dbbackup.Running {
			// Whatever the table says, a job that runs keeps its lock.
			peer = &Report{JobID: a.JobID, Type: a.Type, Status: rs.Status, Message: rs.Message}
		}
		if report != nil {
			outs[a.JobID] = *report
		}
		if peer != nil {
			d.Peer = append(d.Peer, *peer)
		}
		if start {
			d.Start = append(d.Start, e.Job)
		}
	}
	d.Peer = append(d.Peer, strays(in.Runner, mine)...)
	for _, e := range reqs.order {
		if out, ok := outs[e.Job.ID]; ok {
			d.Reports = append(d.Reports, reportJob(e, out))
		}
	}
	sortStart(d.Start, reqs)
	return d
}

// decide returns what a unit does with one job assigned to it: what it
// reports to the requirer, what it reports to the leader, and whether it
// starts the job. A job is reported terminal to the requirer only once the
// leader has recorded its outcome (Done): until then it is reported
// running, so that a unit departing before the leader saw its result never
// shows the requirer one status and then another.
func decide(a Assignment, rs RunState, e *dbbackup.Entry, listed bool) (report *Outcome, peer *Report, start bool) {
	peerOf := func(o Outcome) *Report {
		return &Report{JobID: a.JobID, Type: a.Type, Status: o.Status, Message: o.Message, ArtefactPath: o.ArtefactPath}
	}
	ran := Outcome{Status: rs.Status, Message: rs.Message, ArtefactPath: rs.ArtefactPath}
	switch {
	case a.State == Settled:
		return a.Outcome, nil, false
	case a.State == Done && rs.Status.Terminal():
		return a.Outcome, peerOf(ran), false
	case a.State == Done:
		return a.Outcome, peerOf(*a.Outcome), false
	case a.State != Released && a.State != Running:
		return nil, nil, false
	case rs.Started():
		shown := Outcome{Status: dbbackup.Running}
		if rs.Status == dbbackup.Running {
			shown.Message = rs.Message
		}
		return &shown, peerOf(ran), false
	case !listed:
		return nil, peerOf(Outcome{Status: dbbackup.Error, Message: MsgNotListed}), false
	case !e.Valid():
		return nil, peerOf(Outcome{Status: dbbackup.Error, Message: "not started: " + problemText(e)}), false
	case a.State == Released:
		return nil, &Report{JobID: a.JobID, Type: a.Type, Status: dbbackup.Accepted}, false
	default:
		return nil, nil, true
	}
}

// strays are the jobs this unit's runner runs that the table does not
// assign to it (a lost table): they are reported running to the leader so
// that they keep their lock. A job of unknown type locks like a restore.
func strays(runner map[string]RunState, mine map[string]bool) []Report {
	var out []Report
	for id, rs := range runner {
		if mine[id] || rs.Status != dbbackup.Running || !dbbackup.ValidJobID(id) {
			continue
		}
		t := rs.Type
		if t != dbbackup.Backup {
			t = dbbackup.Restore
		}
		out = append(out, Report{JobID: id, Type: t, Status: rs.Status, Message: rs.Message, ArtefactPath: rs.ArtefactPath})
	}
	sortByID(out)
	return out
}

// reportJob builds the report of a requested job: the request's fields,
// credentials masked, and the outcome. For an invalid request it echoes
// only its job-id, so that no invalid field makes the report invalid: the
// v0 defaults for job-type (backup) and storage-interface (s3), and Mask
// for the bucket and credentials. Unknown request fields are not echoed.
func reportJob(e *dbbackup.Entry, out Outcome) dbbackup.Job {
	req := e.Job
	if !e.Valid() {
		req = dbbackup.Job{ID: req.ID, Type: jobType(req)}
	}
	j := req.Redacted()
	j.Type = jobType(req)
	if j.StorageInterface == "" {
		j.StorageInterface = dbbackup.StorageS3
	}
	for _, f := range []*string{&j.Storage.Bucket, &j.Storage.AccessKey, &j.Storage.SecretKey} {
		if *f == "" {
			*f = dbbackup.Mask
		}
	}
	if j.Config != nil {
		c := *j.Config
		j.Config = &c
	}
	j.Extra = nil
	j.Status, j.Message = out.Status, out.Message
	if out.ArtefactPath != "" {
		j.ArtefactPath = out.ArtefactPath
	}
	return j
}

// sortStart puts the jobs to start in the requirer's order.
func sortStart(jobs []dbbackup.Job, reqs requests) {
	pos := make(map[string]int, len(reqs.order))
	for i, e := range reqs.order {
		pos[e.Job.ID] = i
	}
	sort.SliceStable(jobs, func(i, j int) bool { return pos[jobs[i].ID] < pos[jobs[j].ID] })
}
