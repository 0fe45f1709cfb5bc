package provider

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

const (
	B = dbbackup.Backup
	R = dbbackup.Restore
)

func TestAssign(t *testing.T) {
	cases := []struct {
		name    string
		in      LeaderInput
		want    []string
		events  []string // nil: not checked
		checker func(t *testing.T, p Plan)
	}{{
		name:   "new backup is released at once",
		in:     LeaderInput{Leader: "db/0", Requested: list("b:j1")},
		want:   []string{"j1 backup released db/0"},
		events: []string{"new j1", "released j1"},
	}, {
		name: "backups run concurrently, spread over units",
		in:   LeaderInput{Leader: "db/0", Units: []string{"db/1", "db/0"}, Requested: list("b:j1", "b:j2")},
		checker: func(t *testing.T, p Plan) {
			if p.Table[0].State != Released || p.Table[1].State != Released || p.Table[0].Unit == p.Table[1].Unit {
				t.Fatalf("got %v, want both released on different units", rows(p.Table))
			}
		},
	}, {
		name: "restore is released when nothing holds a lock",
		in:   LeaderInput{Leader: "db/0", Requested: list("r:r1")},
		want: []string{"r1 restore released db/0"},
	}, {
		name: "restore waits for a released backup",
		in: LeaderInput{Leader: "db/0", Requested: list("b:j1", "r:r1"),
			Table: Assignments{row("j1", B, Released, "db/0")}},
		want:   []string{"j1 backup released db/0", "r1 restore waiting"},
		events: []string{"new r1"},
	}, {
		name: "restore waits for a running backup the requirer dropped",
		in: LeaderInput{Leader: "db/0", Requested: list("r:r1"),
			Table: Assignments{row("j1", B, Running, "db/0")}},
		want: []string{"r1 restore waiting", "j1 backup running db/0"},
	}, {
		name: "backups after a waiting restore wait (no starvation), earlier ones run",
		in:   LeaderInput{Leader: "db/0", Requested: list("b:j1", "r:r1", "b:j2")},
		want: []string{"j1 backup released db/0", "r1 restore waiting", "j2 backup waiting"},
	}, {
		name: "nothing beside a released restore; a second restore waits",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Requested: list("r:r1", "b:j1", "r:r2"),
			Table: Assignments{row("r1", R, Released, "db/1")}},
		want: []string{"r1 restore released db/1", "j1 backup waiting", "r2 restore waiting"},
	}, {
		name: "restore released once the backup is reported done, in the same call",
		in: LeaderInput{Leader: "db/0", Requested: list("b:j1", "r:r1", "b:j2"),
			Table:   Assignments{row("j1", B, Running, "db/0"), row("r1", R, Waiting, ""), row("j2", B, Waiting, "")},
			Reports: map[string][]Report{"db/0": {rep("j1", B, dbbackup.Success)}}},
		want:   []string{"j1 backup done db/0 [success: ]", "r1 restore released db/0", "j2 backup waiting"},
		events: []string{"finished j1", "released r1"},
	}, {
		name: "per-unit cap",
		in:   LeaderInput{Leader: "db/0", Requested: list("b:j1", "b:j2"), MaxBackupsPerUnit: 1},
		want: []string{"j1 backup released db/0", "j2 backup waiting"},
	}, {
		name: "accepted, running and finished reports of the assigned unit",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Requested: list("b:j1", "b:j2", "b:j3", "b:j4"),
			Table: Assignments{row("j1", B, Released, "db/0"), row("j2", B, Running, "db/1"), row("j3", B, Released, "db/1"), row("j4", B, Running, "db/1")},
			Reports: map[string][]Report{
				"db/0": {rep("j1", B, dbbackup.Accepted)},
				"db/1": {{JobID: "j2", Type: B, Status: dbbackup.Error, Message: "pg_dump: boom"}, rep("j3", B, dbbackup.Running), rep("j4", B, dbbackup.Accepted)}}},
		want:   []string{"j1 backup running db/0", "j2 backup done db/1 [error: pg_dump: boom]", "j3 backup running db/1", "j4 backup running db/1"},
		events: []string{"started j1", "finished j2", "started j3"},
	}, {
		name: "reports of other units and of departed units are ignored",
		in: LeaderInput{Leader: "db/0", Requested: list("b:j1"),
			Table:   Assignments{row("j1", B, Released, "db/0")},
			Reports: map[string][]Report{"db/0": nil, "db/1": {rep("j1", B, dbbackup.Success)}}},
		want: []string{"j1 backup released db/0"},
	}, {
		name: "unit departed: released job moves, running job fails, done job is reported by the leader",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/0"}, Requested: list("b:j1", "b:j2", "b:j3", "x:j4"),
			Table: Assignments{row("j1", B, Released, "db/1"), row("j2", B, Running, "db/1"),
				done("j3", B, Done, "db/1", dbbackup.Success, ""), done("j4", R, Settled, "db/1", dbbackup.Error, "bad")}},
		want: []string{"j1 backup released db/0",
			"j2 backup settled db/0 [error: unit db/1 departed while running the job]",
			"j3 backup settled db/0 [success: ]", "j4 restore settled db/0 [error: bad]"},
		events: []string{"reassigned j1", "failed j2", "moved j3", "moved j4", "released j1"},
	}, {
		name: "departed unit's running restore frees its lock",
		in: LeaderInput{Leader: "db/0", Requested: list("r:r1", "b:j1"),
			Table: Assignments{row("r1", R, Running, "db/1"), row("j1", B, Waiting, "")}},
		want: []string{"r1 restore settled db/0 [error: unit db/1 departed while running the job]", "j1 backup released db/0"},
	}, {
		name: "invalid entries: settled as error by the leader, or skipped without a job-id",
		in:   LeaderInput{Leader: "db/2", Units: []string{"db/0"}, Requested: list("x:j1", "n:", "b:j2", "b:j2")},
		want: []string{"j1 restore settled db/2 [error: invalid request: jobs[0].artefact-path: required for a restore (which backup to restore)]",
			"j2 backup released db/0"},
		events: []string{"skipped ", "skipped j2", "invalid j1", "new j2", "released j2"},
	}, {
		name: "a waiting job whose request became invalid is settled",
		in: LeaderInput{Leader: "db/0", Requested: list("x:j1"),
			Table: Assignments{row("j1", R, Waiting, "")}},
		want: []string{"j1 restore settled db/0 [error: invalid request: jobs[0].artefact-path: required for a restore (which backup to restore)]"},
	}, {
		name: "history clear: finished and waiting jobs leave, locked ones stay until terminal",
		in: LeaderInput{Leader: "db/0", Requested: list("b:j9"),
			Table: Assignments{done("j1", B, Done, "db/0", dbbackup.Success, ""), row("j2", B, Waiting, ""),
				row("r1", R, Running, "db/0"), row("j3", B, Released, "db/0"), done("j4", B, Settled, "db/0", dbbackup.Error, "x")}},
		want:   []string{"j9 backup waiting", "j3 backup released db/0", "r1 restore running db/0"},
		events: []string{"new j9", "removed j1", "removed j2", "removed j4"},
	}, {
		name: "dropped running restore reported terminal: removed, and backups go",
		in: LeaderInput{Leader: "db/0", Requested: list("b:j9"),
			Table:   Assignments{row("j9", B, Waiting, ""), row("r1", R, Running, "db/0")},
			Reports: map[string][]Report{"db/0": {rep("r1", R, dbbackup.Success)}}},
		want: []string{"j9 backup released db/0"},
	}, {
		name: "dropped job declined by its unit is removed",
		in: LeaderInput{Leader: "db/0", Requested: list("r:r2"),
			Table:   Assignments{row("r1", R, Released, "db/0")},
			Reports: map[string][]Report{"db/0": {{JobID: "r1", Type: R, Status: dbbackup.Error, Message: MsgNotListed}}}},
		want: []string{"r2 restore released db/0"},
	}, {
		name: "lost table: reported jobs are adopted by their units, and hold locks",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Requested: list("b:j1", "b:j2", "r:r1"),
			Reports: map[string][]Report{"db/1": {rep("j1", B, dbbackup.Running), rep("j2", B, dbbackup.Success), rep("j7", B, dbbackup.Success)}}},
		want:   []string{"j1 backup running db/1", "j2 backup done db/1 [success: ]", "r1 restore waiting"},
		events: []string{"adopted j1", "adopted j2", "new r1"},
	}, {
		name: "a job a live unit reports running holds a lock even unlisted",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Requested: list("r:r1"),
			Reports: map[string][]Report{"db/1": {rep("zz", B, dbbackup.Running)}}},
		want: []string{"r1 restore waiting", "zz backup running db/1"},
	}, {
		name: "a job any live unit reports running holds a lock, whatever the table says",
		in: LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Requested: list("b:j1", "r:r1"),
			Table:   Assignments{done("j1", B, Done, "db/0", dbbackup.Success, "")},
			Reports: map[string][]Report{"db/1": {rep("j1", R, dbbackup.Running)}}},
		want: []string{"j1 backup done db/0 [success: ]", "r1 restore waiting"},
	}, {
		name: "no leader name: the first unit decides",
		in:   LeaderInput{Units: []string{"db/3"}, Requested: list("x:j1")},
		want: []string{"j1 restore settled db/3 [error: invalid request: jobs[0].artefact-path: required for a restore (which backup to restore)]"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Assign(c.in)
			if c.want != nil {
				if got := rows(p.Table); !reflect.DeepEqual(got, c.want) {
					t.Fatalf("table:\ngot  %q\nwant %q", got, c.want)
				}
			}
			if c.events != nil {
				if got := kinds(p.Events); !reflect.DeepEqual(got, c.events) {
					t.Fatalf("events:\ngot  %q\nwant %q", got, c.events)
				}
			}
			if c.checker != nil {
				c.checker(t, p)
			}
			if _, err := ParseAssignments(p.Table.Marshal()); err != nil {
				t.Fatalf("the table does not read back: %v", err)
			}
		})
	}
}

func TestAssignNoUnit(t *testing.T) {
	table := Assignments{row("j1", B, Released, "db/0")}
	p := Assign(LeaderInput{Requested: list("b:j1"), Table: table})
	if !reflect.DeepEqual(p.Table, table) || len(p.Events) != 1 {
		t.Fatalf("got %v %v, want the table unchanged and one event", rows(p.Table), p.Events)
	}
}

func TestChooseLeastLoadedThenHash(t *testing.T) {
	units := []string{"db/0", "db/1", "db/2"}
	table := Assignments{row("a", B, Running, "db/0"), row("b", B, Released, "db/0"), row("c", B, Released, "db/1")}
	p := Assign(LeaderInput{Leader: "db/0", Units: units, Requested: list("b:a", "b:b", "b:c", "b:n1", "b:n2"), Table: table})
	n1, _ := p.Table.Find("n1")
	if n1.Unit != "db/2" {
		t.Fatalf("got n1 on %s, want db/2 (the idle unit)", n1.Unit)
	}
	n2, _ := p.Table.Find("n2")
	if n2.Unit != "db/1" && n2.Unit != "db/2" {
		t.Fatalf("got n2 on %s, want db/1 or db/2 (load 1)", n2.Unit)
	}
	// Ties are broken by the hash, not by unit order.
	counts := map[string]int{}
	for i := 0; i < 300; i++ {
		id := "job-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		p := Assign(LeaderInput{Leader: "db/0", Units: units, Requested: list("b:" + id)})
		counts[p.Table[0].Unit]++
	}
	for _, u := range units {
		if counts[u] < 50 {
			t.Fatalf("got %v, want ties spread over every unit", counts)
		}
	}
}

func TestNew(t *testing.T) {
	l := list("b:j1", "x:j2", "n:", "b:j3", "b:j1")
	got := New(l, Assignments{row("j1", B, Waiting, "")})
	var ids []string
	for _, e := range got {
		ids = append(ids, e.Job.ID)
	}
	if want := []string{"j2", "j3"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("got %v, want %v", ids, want)
	}
}
