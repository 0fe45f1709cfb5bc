package provider

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// reportRows summarises reports as "id type status message artefact".
func reportRows(js []dbbackup.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = strings.Join([]string{j.ID, string(j.Type), string(j.Status), j.Message, j.ArtefactPath}, "|")
	}
	return out
}

func peerRows(rs []Report) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = strings.Join([]string{r.JobID, string(r.Type), string(r.Status), r.Message, r.ArtefactPath}, "|")
	}
	return out
}

func TestUnitPlan(t *testing.T) {
	run := func(t dbbackup.JobType) RunState { return RunState{Type: t, Status: dbbackup.Running} }
	cases := []struct {
		name    string
		in      UnitInput
		start   []string
		reports []string
		peer    []string
	}{{
		name: "a job released to this unit is acknowledged, not started, not reported",
		in:   UnitInput{Unit: "db/0", Requested: list("b:j1", "r:r1"), Table: Assignments{row("j1", B, Released, "db/0"), row("r1", R, Waiting, "")}},
		peer: []string{"j1|backup|accepted||"},
	}, {
		name:  "a job the leader cleared is started, not yet reported",
		in:    UnitInput{Unit: "db/0", Requested: list("b:j1", "b:j2"), Table: Assignments{row("j1", B, Running, "db/0"), row("j2", B, Running, "db/0")}},
		start: []string{"j1", "j2"},
	}, {
		name: "jobs of other units are neither started nor reported",
		in: UnitInput{Unit: "db/0", Requested: list("b:j1", "b:j2"),
			Table:  Assignments{row("j1", B, Released, "db/1"), done("j2", B, Settled, "db/1", dbbackup.Error, "x")},
			Runner: map[string]RunState{"j1": run(B)}},
		peer: []string{"j1|backup|running||"},
	}, {
		name: "the runner's state goes to the leader; the requirer sees running until the leader recorded the outcome",
		in: UnitInput{Unit: "db/0", Requested: list("r:r1", "b:j1", "b:j2"),
			Table: Assignments{row("j1", B, Running, "db/0"), row("j2", B, Released, "db/0"), row("r1", R, Released, "db/0")},
			Runner: map[string]RunState{
				"j1": {Type: B, Status: dbbackup.Success, ArtefactPath: "p/j1/"},
				"j2": run(B),
				"r1": {Type: R, Status: dbbackup.Error, Message: "restore: checksum mismatch"}}},
		reports: []string{"r1|restore|running||backups/r1", "j1|backup|running||", "j2|backup|running||"},
		peer:    []string{"j1|backup|success||p/j1/", "j2|backup|running||", "r1|restore|error|restore: checksum mismatch|"},
	}, {
		name: "a settled job is reported as decided, without running",
		in: UnitInput{Unit: "db/0", Requested: list("b:j1"),
			Table: Assignments{done("j1", B, Settled, "db/0", dbbackup.Error, "unit db/1 departed while running the job")}},
		reports: []string{"j1|backup|error|unit db/1 departed while running the job|"},
	}, {
		name: "a done or settled job is reported as the leader recorded it",
		in: UnitInput{Unit: "db/0", Requested: list("b:j1", "r:r1"),
			Table:  Assignments{done("j1", B, Done, "db/0", dbbackup.Error, "crashed"), done("r1", R, Settled, "db/0", dbbackup.Success, "")},
			Runner: map[string]RunState{"j1": {Type: B, Status: dbbackup.Error, Message: "crashed"}}},
		reports: []string{"j1|backup|error|crashed|", "r1|restore|success||backups/r1"},
		peer:    []string{"j1|backup|error|crashed|"},
	}, {
		name: "a job the runner runs keeps its lock whatever the table says",
		in: UnitInput{Unit: "db/0", Requested: list("b:j1"),
			Table:  Assignments{done("j1", B, Settled, "db/0", dbbackup.Error, "x")},
			Runner: map[string]RunState{"j1": run(B)}},
		reports: []string{"j1|backup|error|x|"},
		peer:    []string{"j1|backup|running||"},
	}, {
		name: "a done job the runner forgot is reported from the table",
		in: UnitInput{Unit: "db/0", Requested: list("b:j1"),
			Table: Assignments{{JobID: "j1", Type: B, State: Done, Unit: "db/0", Outcome: &Outcome{Status: dbbackup.Success, ArtefactPath: "p/"}}}},
		reports: []string{"j1|backup|success||p/"},
		peer:    []string{"j1|backup|success||p/"},
	}, {
		name: "a released or cleared job the requirer dropped is never started; the leader is told",
		in:   UnitInput{Unit: "db/0", Requested: list(), Table: Assignments{row("r1", R, Released, "db/0"), row("j1", B, Running, "db/0")}},
		peer: []string{"r1|restore|error|" + MsgNotListed + "|", "j1|backup|error|" + MsgNotListed + "|"},
	}, {
		name: "a released job whose request became invalid is not started",
		in:   UnitInput{Unit: "db/0", Requested: list("x:r1"), Table: Assignments{row("r1", R, Released, "db/0")}},
		peer: []string{"r1|restore|error|not started: invalid request: jobs[0].artefact-path: required for a restore (which backup to restore)|"},
	}, {
		name: "a running job the requirer dropped: reported to the leader only (it keeps its lock)",
		in: UnitInput{Unit: "db/0", Requested: list("b:j2"), Table: Assignments{row("r1", R, Running, "db/0")},
			Runner: map[string]RunState{"r1": run(R)}},
		peer: []string{"r1|restore|running||"},
	}, {
		name: "a running job the table does not hold is reported to the leader; unknown type locks as a restore",
		in: UnitInput{Unit: "db/0", Requested: list(),
			Runner: map[string]RunState{"s1": run(B), "s2": {Status: dbbackup.Running}, "s3": {Type: B, Status: dbbackup.Success}}},
		peer: []string{"s1|backup|running||", "s2|restore|running||"},
	}, {
		name:    "a started job is not started again",
		in:      UnitInput{Unit: "db/0", Requested: list("b:j1"), Table: Assignments{row("j1", B, Released, "db/0")}, Runner: map[string]RunState{"j1": {Type: B, Status: dbbackup.Error, Message: "crashed"}}},
		reports: []string{"j1|backup|running||"},
		peer:    []string{"j1|backup|error|crashed|"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := UnitPlan(c.in)
			var start []string
			for _, j := range d.Start {
				start = append(start, j.ID)
			}
			if !reflect.DeepEqual(start, c.start) {
				t.Errorf("start: got %q, want %q", start, c.start)
			}
			if got := reportRows(d.Reports); !reflect.DeepEqual(got, c.reports) && len(got)+len(c.reports) > 0 {
				t.Errorf("reports:\ngot  %q\nwant %q", got, c.reports)
			}
			if got := peerRows(d.Peer); !reflect.DeepEqual(got, c.peer) && len(got)+len(c.peer) > 0 {
				t.Errorf("peer:\ngot  %q\nwant %q", got, c.peer)
			}
			checkReportsWire(t, d.Reports)
		})
	}
}

// checkReportsWire writes reports as the charm does and reads them back:
// no problem, no credential.
func checkReportsWire(t *testing.T, reports []dbbackup.Job) {
	t.Helper()
	if len(reports) == 0 {
		return
	}
	text, err := dbbackup.MarshalJobs(reports, dbbackup.Provider)
	if err != nil {
		t.Fatalf("cannot write reports: %v", err)
	}
	if strings.Contains(text, canaryAccess) || strings.Contains(text, canarySecret) {
		t.Fatalf("reports leak a credential: %s", text)
	}
	if ps := dbbackup.ParseJobs(text, dbbackup.Provider).AllProblems(); len(ps) > 0 {
		t.Fatalf("reports are not valid provider jobs: %v\n%s", ps, text)
	}
	for _, j := range reports {
		if j.Storage.AccessKey != dbbackup.Mask || j.Storage.SecretKey != dbbackup.Mask {
			t.Fatalf("report %s holds unmasked credentials", j.ID)
		}
	}
}

func TestUnitPlanStartKeepsCredentials(t *testing.T) {
	d := UnitPlan(UnitInput{Unit: "db/0", Requested: list("b:j1"), Table: Assignments{row("j1", B, Running, "db/0")}})
	if len(d.Start) != 1 || d.Start[0].Storage.SecretKey != canarySecret {
		t.Fatalf("got %+v, want j1 with its credentials for the runner", d.Start)
	}
}

// TestInvalidRequestReportIsValid reads a requirer databag with broken
// entries through the wire parser and checks the error reports.
func TestInvalidRequestReportIsValid(t *testing.T) {
	text := `[{"job-id":"j1","job-type":"snapshot","storage-config":{"bucket":"b","secret-key":"` + canarySecret + `"}},
	{"job-id":"j2"},{"job-type":"backup"},
	{"job-id":"j3","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"b","access-key":"` + canaryAccess + `","secret-key":"` + canarySecret + `"}}]`
	l := dbbackup.ParseJobs(text, dbbackup.Requirer)
	p := Assign(LeaderInput{Leader: "db/0", Requested: l})
	got := rows(p.Table)
	if len(got) != 3 || !strings.HasPrefix(got[0], "j1 backup settled db/0 [error: invalid request: jobs[0].") ||
		!strings.HasPrefix(got[1], "j2 backup settled db/0 [error: invalid request: jobs[1].") || got[2] != "j3 backup released db/0" {
		t.Fatalf("got %q", got)
	}
	d := UnitPlan(UnitInput{Unit: "db/0", Requested: l, Table: p.Table})
	if len(d.Reports) != 2 || len(d.Start) != 0 || len(d.Peer) != 1 || d.Peer[0].Status != dbbackup.Accepted {
		t.Fatalf("got %d reports, %d starts and peer %v; want 2, 0 and j3 accepted", len(d.Reports), len(d.Start), d.Peer)
	}
	p = Assign(LeaderInput{Leader: "db/0", Requested: l, Table: p.Table, Reports: map[string][]Report{"db/0": d.Peer}})
	if d := UnitPlan(UnitInput{Unit: "db/0", Requested: l, Table: p.Table}); len(d.Start) != 1 || d.Start[0].ID != "j3" {
		t.Fatalf("got start %v, want j3 once the leader saw it accepted", d.Start)
	}
	if !strings.Contains(d.Reports[0].Message, `jobs[0].job-type: must be "backup" or "restore", got "snapshot"`) {
		t.Fatalf("got message %q, want the job-type problem", d.Reports[0].Message)
	}
	checkReportsWire(t, d.Reports)
	if s := p.Table.Marshal(); strings.Contains(s, canarySecret) || strings.Contains(s, canaryAccess) {
		t.Fatalf("the table leaks a credential: %s", s)
	}
}
