package provider

import (
	"fmt"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// benchInput builds a leader input with n jobs over 5 units: a finished
// history, jobs running and acknowledged, and a queue behind a restore.
func benchInput(n int) LeaderInput {
	units := []string{"db/0", "db/1", "db/2", "db/3", "db/4"}
	in := LeaderInput{Leader: "db/0", Units: units, Reports: map[string][]Report{}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("job-%06d", i)
		t := dbbackup.Backup
		if i%10 == 9 {
			t = dbbackup.Restore
		}
		in.Requested.Entries = append(in.Requested.Entries, dbbackup.Entry{Index: i, Job: request(id, t)})
		u := units[i%len(units)]
		switch {
		case i < n/2:
			in.Table = append(in.Table, done(id, t, Done, u, dbbackup.Success, ""))
			in.Reports[u] = append(in.Reports[u], rep(id, t, dbbackup.Success))
		case i < n/2+n/10 && t == dbbackup.Backup:
			in.Table = append(in.Table, row(id, t, Running, u))
			in.Reports[u] = append(in.Reports[u], rep(id, t, dbbackup.Running))
		default:
			in.Table = append(in.Table, row(id, t, Waiting, ""))
		}
	}
	return in
}

func benchmarkAssign(b *testing.B, n int) {
	in := benchInput(n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Assign(in)
	}
}

func BenchmarkAssign1000(b *testing.B)  { benchmarkAssign(b, 1000) }
func BenchmarkAssign10000(b *testing.B) { benchmarkAssign(b, 10000) }

func BenchmarkUnitPlan10000(b *testing.B) {
	in := benchInput(10000)
	table := Assign(in).Table
	runner := map[string]RunState{}
	for _, r := range in.Reports["db/1"] {
		runner[r.JobID] = RunState{Type: r.Type, Status: r.Status}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		UnitPlan(UnitInput{Unit: "db/1", Requested: in.Requested, Table: table, Runner: runner})
	}
}

func BenchmarkParseAssignments10000(b *testing.B) {
	text := Assign(benchInput(10000)).Table.Marshal()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseAssignments(text); err != nil {
			b.Fatal(err)
		}
	}
}
