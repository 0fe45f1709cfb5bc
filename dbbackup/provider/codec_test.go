package provider

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

func TestAssignmentsRoundTrip(t *testing.T) {
	table := Assignments{row("j1", B, Waiting, ""), row("j2", R, Released, "db/0"), row("j3", B, Running, "db-x/12"),
		done("j4", B, Done, "db/0", dbbackup.Success, ""), done("j5", R, Settled, "db/1", dbbackup.Error, "unit db/2 departed while running the job")}
	table[3].Outcome.ArtefactPath = "p/j4/"
	text := table.Marshal()
	want := `{"version":1,"assignments":[{"job-id":"j1","job-type":"backup","state":"waiting"},` +
		`{"job-id":"j2","job-type":"restore","state":"released","unit":"db/0"},` +
		`{"job-id":"j3","job-type":"backup","state":"running","unit":"db-x/12"},` +
		`{"job-id":"j4","job-type":"backup","state":"done","unit":"db/0","outcome":{"status":"success","artefact-path":"p/j4/"}},` +
		`{"job-id":"j5","job-type":"restore","state":"settled","unit":"db/1","outcome":{"status":"error","message":"unit db/2 departed while running the job"}}]}`
	if text != want {
		t.Fatalf("got  %s\nwant %s", text, want)
	}
	got, err := ParseAssignments(text)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, table) {
		t.Fatalf("got %v, want %v", rows(got), rows(table))
	}
	if empty := Assignments(nil).Marshal(); empty != `{"version":1,"assignments":[]}` {
		t.Fatalf("got %s for an empty table", empty)
	}
}

func TestParseAssignments(t *testing.T) {
	cases := []struct {
		name, text, err string
		n               int
	}{
		{"empty databag", "", "", 0},
		{"empty table", `{"version":1,"assignments":[]}`, "", 0},
		{"unknown fields are ignored", `{"version":1,"x":2,"assignments":[{"job-id":"a","job-type":"backup","state":"waiting","y":[]}]}`, "", 1},
		{"not an object", `[]`, "not a JSON object", 0},
		{"not JSON", `{"version":`, "not a JSON object", 0},
		{"no version", `{"assignments":[]}`, "version: must be an integer", 0},
		{"other version", `{"version":2,"assignments":[]}`, "version: must be 1, got 2", 0},
		{"no list", `{"version":1}`, "assignments: required", 0},
		{"list of the wrong type", `{"version":1,"assignments":{}}`, "cannot read assignments", 0},
		{"bad job-id", `{"version":1,"assignments":[{"job-id":"../x","job-type":"backup","state":"waiting"}]}`, `assignments[0]: job-id: invalid "../x"`, 0},
		{"bad type", `{"version":1,"assignments":[{"job-id":"a","job-type":"dump","state":"waiting"}]}`, "job-type: must be", 0},
		{"bad state", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"paused"}]}`, `state: unknown "paused"`, 0},
		{"waiting with a unit", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"waiting","unit":"db/0"}]}`, "unit: must be empty while waiting", 0},
		{"released without a unit", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"released"}]}`, "unit: must be a unit name", 0},
		{"bad unit", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"released","unit":"db"}]}`, "unit: must be a unit name", 0},
		{"done without outcome", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"done","unit":"db/0"}]}`, "outcome: required in state done", 0},
		{"running with outcome", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"running","unit":"db/0","outcome":{"status":"error"}}]}`, "outcome: not allowed in state running", 0},
		{"outcome not terminal", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"settled","unit":"db/0","outcome":{"status":"running"}}]}`, "outcome.status: must be", 0},
		{"outcome lost", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"settled","unit":"db/0","outcome":{"status":"lost"}}]}`, "outcome.status: must be", 0},
		{"duplicate", `{"version":1,"assignments":[{"job-id":"a","job-type":"backup","state":"waiting"},{"job-id":"a","job-type":"backup","state":"waiting"}]}`, `assignments[1]: duplicate job-id "a"`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseAssignments(c.text)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("got error %v, want one containing %q", err, c.err)
			case len(got) != c.n:
				t.Fatalf("got %d rows, want %d", len(got), c.n)
			}
		})
	}
}

func TestReportsRoundTrip(t *testing.T) {
	rs := []Report{rep("j1", B, dbbackup.Running), {JobID: "j2", Type: R, Status: dbbackup.Error, Message: "m", ArtefactPath: "p/"}}
	text := MarshalReports(rs)
	want := `{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"running"},{"job-id":"j2","job-type":"restore","status":"error","message":"m","artefact-path":"p/"}]}`
	if text != want {
		t.Fatalf("got  %s\nwant %s", text, want)
	}
	got, err := ParseReports(text)
	if err != nil || !reflect.DeepEqual(got, rs) {
		t.Fatalf("got %v, %v; want %v", got, err, rs)
	}
	if MarshalReports(nil) != `{"version":1,"reports":[]}` {
		t.Fatal("empty reports are not written as an empty list")
	}
	for text, wantErr := range map[string]string{
		"": "",
		`{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"queued"}]}`:                                                       "status: must be",
		`{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"lost"}]}`:                                                         "status: must be",
		`{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"pending"}]}`:                                                      "status: must be",
		`{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"waiting"}]}`:                                                      "status: must be",
		`{"version":1,"reports":[{"job-id":"","job-type":"backup","status":"running"}]}`:                                                        "job-id: invalid",
		`{"version":1,"reports":[{"job-id":"a","job-type":"x","status":"running"}]}`:                                                            "job-type: must be",
		`{"version":1,"reports":[{"job-id":"a","job-type":"backup","status":"running"},{"job-id":"a","job-type":"backup","status":"running"}]}`: "duplicate",
		`{"version":3,"reports":[]}`: "version: must be 1",
	} {
		_, err := ParseReports(text)
		if (wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("ParseReports(%s): got %v, want %q", text, err, wantErr)
		}
	}
}

func FuzzParseAssignments(f *testing.F) {
	f.Add(`{"version":1,"assignments":[{"job-id":"j1","job-type":"backup","state":"waiting"},{"job-id":"j4","job-type":"backup","state":"done","unit":"db/0","outcome":{"status":"success","artefact-path":"p/j4/"}}]}`)
	f.Add(`{"version":1,"assignments":[{"job-id":"a","job-type":"restore","state":"released","unit":"db/0"}]}`)
	f.Add(``)
	f.Add(`{"version":1,"assignments":null}`)
	f.Fuzz(func(t *testing.T, text string) {
		table, err := ParseAssignments(text)
		if err != nil {
			return
		}
		out := table.Marshal()
		again, err := ParseAssignments(out)
		if err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if again.Marshal() != out {
			t.Fatalf("not stable: %s", out)
		}
		// A parsed table is a valid input for the decisions.
		p := Assign(LeaderInput{Leader: "db/0", Table: table})
		if _, err := ParseAssignments(p.Table.Marshal()); err != nil {
			t.Fatalf("Assign wrote an unreadable table: %v", err)
		}
		UnitPlan(UnitInput{Unit: "db/0", Table: table})
	})
}

func FuzzParseReports(f *testing.F) {
	f.Add(`{"version":1,"reports":[{"job-id":"j1","job-type":"backup","status":"running"}]}`)
	f.Add(`{"version":1,"reports":[{"job-id":"j2","job-type":"restore","status":"error","message":"m","artefact-path":"p/"}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := ParseReports(text)
		if err != nil {
			return
		}
		out := MarshalReports(rs)
		again, err := ParseReports(out)
		if err != nil || MarshalReports(again) != out {
			t.Fatalf("not stable: %s (%v)", out, err)
		}
		p := Assign(LeaderInput{Leader: "db/0", Units: []string{"db/1"}, Reports: map[string][]Report{"db/1": rs}})
		if _, err := ParseAssignments(p.Table.Marshal()); err != nil {
			t.Fatalf("Assign wrote an unreadable table: %v", err)
		}
	})
}
