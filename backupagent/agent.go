package backupagent

import (
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/provider"
	"github.com/dbbackup/dbbackup/runner"
)

// Databag keys of the peer relation.
const (
	// TableKey holds the leader's assignment table (peer application databag).
	TableKey = "assignments"
	// ReportsKey holds a unit's peer reports (peer unit databag).
	ReportsKey = "reports"
	// JobsKey holds the jobs list on database_backup.
	JobsKey = "jobs"
)

// Agent serves database_backup for one unit.
type Agent struct {
	// Endpoint is the database_backup endpoint; "database-backup" when empty.
	Endpoint string
	// Peer is the peer endpoint; "backup-peers" when empty.
	Peer string
	// Journal is the folder shared with the runner.
	Journal runner.Journal
	// MaxBackupsPerUnit caps the backups one unit runs at once; 0: no cap.
	MaxBackupsPerUnit int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// GetSecret reads a job's credentials-secret (see ResolveCredentials);
	// secret-get --refresh when nil.
	GetSecret SecretGetter
}

// Result says what one Sync did.
type Result struct {
	// Leader is true on the provider leader.
	Leader bool
	// Requested counts the requirer's jobs.
	Requested int
	// Started are the jobs handed to the runner in this hook.
	Started []string
	// Events are the leader's assignment events of this hook.
	Events []provider.Event
	// Records are the runner's journal as this hook left it (see StatusFrom).
	Records []runner.Record
}

func (a Agent) endpoint() string { return or(a.Endpoint, "database-backup") }
func (a Agent) peer() string     { return or(a.Peer, "backup-peers") }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Sync runs one round of the provider's rules in a hook (or a juju-exec
// command): the leader assigns, this unit submits the jobs it may start to
// its runner and reports. It returns at once; the runner does the work.
func (a Agent) Sync() (Result, error) {
	var res Result
	env := goops.ReadEnv()
	me := env.UnitName
	app, _, _ := strings.Cut(me, "/")
	peerIDs, err := goops.GetRelationIDs(a.peer())
	if err != nil {
		return res, fmt.Errorf("cannot list the %s relation: %w", a.peer(), err)
	}
	if len(peerIDs) == 0 {
		return res, nil // not created yet (install)
	}
	peerID := peerIDs[0]
	relID, requested, err := a.requested()
	if err != nil {
		return res, err
	}
	res.Requested = len(requested.Entries)
	peerApp, err := goops.GetAppRelationData(peerID, app)
	if err != nil {
		return res, fmt.Errorf("cannot read the assignment table: %w", err)
	}
	table, err := provider.ParseAssignments(peerApp[TableKey])
	if err != nil {
		goops.LogWarningf("ignoring an unreadable assignment table: %v", err)
		table = nil
	}
	mine, err := goops.GetUnitRelationData(peerID, me)
	if err != nil {
		return res, fmt.Errorf("cannot read this unit's peer data: %w", err)
	}
	recs, err := a.Journal.Load()
	if err != nil {
		return res, err
	}
	kick := false
	if res.Leader, err = goops.IsLeader(); err != nil {
		return res, fmt.Errorf("cannot tell leadership: %w", err)
	}
	if res.Leader {
		changed, events, err := a.assign(peerID, me, mine, requested, table, peerApp[TableKey])
		if err != nil {
			return res, err
		}
		res.Events, kick = events, changed
	}
	in := provider.UnitInput{Unit: me, Requested: requested, Table: table, Runner: runner.RunStates(recs)}
	d := provider.UnitPlan(in)
	for _, j := range d.Start {
		if err := a.submit(j, a.now()); err != nil {
			return res, err
		}
		res.Started = append(res.Started, j.ID)
	}
	if len(d.Start) > 0 {
		if recs, err = a.Journal.Load(); err != nil {
			return res, err
		}
		in.Runner = runner.RunStates(recs)
		d = provider.UnitPlan(in)
	}
	if peerText := provider.MarshalReports(d.Peer); peerText != mine[ReportsKey] {
		if err := SetRelationData(peerID, false, map[string]string{ReportsKey: peerText}); err != nil {
			return res, fmt.Errorf("cannot write this unit's peer reports: %w", err)
		}
		kick = kick || res.Leader // the leader reads its own reports in its next hook
	}
	if relID != "" {
		if err := a.report(relID, me, d.Reports); err != nil {
			return res, err
		}
	}
	res.Records = recs
	a.prune(recs, requested, table)
	if kick {
		if err := a.Journal.Kick(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// requested reads the requirer's jobs list from the first database_backup
// relation.
func (a Agent) requested() (string, dbbackup.List, error) {
	ids, err := goops.GetRelationIDs(a.endpoint())
	if err != nil {
		return "", dbbackup.List{}, fmt.Errorf("cannot list the %s relation: %w", a.endpoint(), err)
	}
	if len(ids) == 0 {
		return "", dbbackup.List{}, nil
	}
	remote, err := goops.GetRelationApp(ids[0])
	if err != nil || remote == "" {
		return ids[0], dbbackup.List{}, nil
	}
	data, err := goops.GetAppRelationData(ids[0], remote)
	if err != nil {
		return ids[0], dbbackup.List{}, fmt.Errorf("cannot read the jobs of %s: %w", remote, err)
	}
	return ids[0], dbbackup.ParseJobs(data[JobsKey], dbbackup.Requirer), nil
}

// assign is the leader's part: it reads every live unit's reports and
// writes the new table. It reports whether the table changed.
func (a Agent) assign(peerID, me string, mine map[string]string, requested dbbackup.List, table provider.Assignments, tableText string) (bool, []provider.Event, error) {
	units, err := goops.ListRelationUnits(peerID)
	if err != nil {
		return false, nil, fmt.Errorf("cannot list the peers: %w", err)
	}
	reports := map[string][]provider.Report{}
	for _, u := range append(units, me) {
		data := mine
		if u != me {
			if data, err = goops.GetUnitRelationData(peerID, u); err != nil {
				return false, nil, fmt.Errorf("cannot read the reports of %s: %w", u, err)
			}
		}
		rs, err := provider.ParseReports(data[ReportsKey])
		if err != nil {
			goops.LogWarningf("ignoring unreadable reports of %s: %v", u, err)
			continue
		}
		reports[u] = rs
	}
	plan := provider.Assign(provider.LeaderInput{Leader: me, Units: append(units, me), Requested: requested,
		Table: table, Reports: reports, MaxBackupsPerUnit: a.MaxBackupsPerUnit})
	logEvents(plan.Events)
	text := plan.Table.Marshal()
	if text == tableText {
		return false, plan.Events, nil
	}
	if err := SetRelationData(peerID, true, map[string]string{TableKey: text}); err != nil {
		return false, nil, fmt.Errorf("cannot write the assignment table: %w", err)
	}
	return true, plan.Events, nil
}

// logEvents logs the leader's events in one call (each call is a process).
func logEvents(events []provider.Event) {
	if len(events) == 0 {
		return
	}
	const max = 20
	lines := make([]string, 0, max+1)
	for i, e := range events {
		if i == max {
			lines = append(lines, fmt.Sprintf("... and %d more", len(events)-max))
			break
		}
		lines = append(lines, e.String())
	}
	goops.LogInfof("assignments: %s", strings.Join(lines, "; "))
}

// report writes the unit's reports on database_backup when they changed.
func (a Agent) report(relID, me string, jobs []dbbackup.Job) error {
	text, err := dbbackup.MarshalJobs(jobs, dbbackup.Provider)
	if err != nil {
		return fmt.Errorf("cannot write the reports: %w", err)
	}
	own, err := goops.GetUnitRelationData(relID, me)
	if err != nil {
		return fmt.Errorf("cannot read this unit's reports: %w", err)
	}
	if own[JobsKey] == text {
		return nil
	}
	if err := SetRelationData(relID, false, map[string]string{JobsKey: text}); err != nil {
		return fmt.Errorf("cannot write the reports: %w", err)
	}
	return nil
}

// prune forgets finished jobs that neither the requirer nor the table
// holds any more: no rule can ask about them again.
func (a Agent) prune(recs []runner.Record, requested dbbackup.List, table provider.Assignments) {
	listed := map[string]bool{}
	for _, e := range requested.Entries {
		listed[e.Job.ID] = true
	}
	for _, r := range recs {
		if _, inTable := table.Find(r.JobID); !r.Status.Terminal() || listed[r.JobID] || inTable {
			continue
		}
		if err := a.Journal.Forget(r.JobID); err != nil {
			goops.LogWarningf("%v", err)
		}
	}
}
