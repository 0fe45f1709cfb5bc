package requirer_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// benchUnits is how many provider units share the reports.
const benchUnits = 3

// benchSetup builds a history of n waiting jobs of mysql and the unit
// databags reporting them: half running, a third success, a sixth error.
func benchSetup(b *testing.B, n int) (requirer.History, map[string]string, time.Time) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	entropy := readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return len(p), nil
	})
	var h requirer.History
	perUnit := map[string][]dbbackup.Job{}
	for i := range n {
		at := time.Duration(i) * time.Second
		id := requirer.NewJobID(t0.Add(at), entropy)
		h.Records = append(h.Records, waiting(id, "mysql", dbbackup.Backup, at)) // ids sort by time

		j := report(id, dbbackup.Backup, dbbackup.Running, "", "")
		switch i % 6 {
		case 0, 1, 2:
		case 3, 4:
			j.Status, j.ArtefactPath = dbbackup.Success, "prod/mysql/"+id+"/"
		default:
			j.Status, j.Message = dbbackup.Error, "mysqldump: Got error: 2013: Lost connection to server during query"
		}
		u := fmt.Sprintf("mysql/%d", i%benchUnits)
		perUnit[u] = append(perUnit[u], j)
	}
	bags := map[string]string{}
	for u, jobs := range perUnit {
		text, err := dbbackup.MarshalJobs(jobs, dbbackup.Provider)
		if err != nil {
			b.Fatal(err)
		}
		bags[u] = text
	}
	return h, bags, t0.Add(time.Duration(n) * time.Second)
}

// benchMerge measures what a hook does with the reports: parse and
// validate every unit's jobs field, then merge them into the history.
func benchMerge(b *testing.B, n int) {
	h, bags, now := benchSetup(b, n)
	written := 0
	for _, text := range bags {
		written += len(text)
	}
	var merged requirer.History
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		reports := make(map[string][]dbbackup.Job, len(bags))
		for u, text := range bags {
			l := dbbackup.ParseJobs(text, dbbackup.Provider)
			if len(l.Problems) > 0 {
				b.Fatal(l.AllProblems())
			}
			reports[u] = l.Jobs()
		}
		merged, _ = requirer.Merge(h, "mysql", reports, now, 24*time.Hour)
	}
	b.StopTimer()
	if got, want := len(merged.Pending("mysql")), (n/6)*3+min(n%6, 3); got != want {
		b.Fatalf("%d jobs pending after the merge, want %d", got, want)
	}
	stored, err := merged.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	jobs, err := requirer.RelationJobs(h, "mysql", storageConfig(), n)
	if err != nil {
		b.Fatal(err)
	}
	requested, err := dbbackup.MarshalJobs(jobs, dbbackup.Requirer)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(written)/float64(n), "report-B/job")
	b.ReportMetric(float64(len(requested))/float64(n), "request-B/job")
	b.ReportMetric(float64(len(stored))/float64(len(merged.Records)), "history-B/record")
	b.ReportMetric(float64(len(stored)), "history-B")
}

// benchMergeOnly measures Merge alone, on reports already parsed.
func benchMergeOnly(b *testing.B, n int) {
	h, bags, now := benchSetup(b, n)
	reports := make(map[string][]dbbackup.Job, len(bags))
	for u, text := range bags {
		reports[u] = dbbackup.ParseJobs(text, dbbackup.Provider).Jobs()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		requirer.Merge(h, "mysql", reports, now, 24*time.Hour)
	}
}

// BenchmarkMerge1000 parses, validates and merges reports of 1,000 jobs.
func BenchmarkMerge1000(b *testing.B) { benchMerge(b, 1000) }

// BenchmarkMerge10000 does the same with 10,000 jobs, to show it is linear.
func BenchmarkMerge10000(b *testing.B) { benchMerge(b, 10000) }

// BenchmarkMergeOnly1000 merges already parsed reports of 1,000 jobs.
func BenchmarkMergeOnly1000(b *testing.B) { benchMergeOnly(b, 1000) }

// BenchmarkMergeOnly10000 merges already parsed reports of 10,000 jobs.
func BenchmarkMergeOnly10000(b *testing.B) { benchMergeOnly(b, 10000) }
