package dbbackup

import (
	"fmt"
	"testing"
)

// benchJobs writes n requirer jobs as the jobs field.
func benchJobs(b *testing.B, n int) string {
	b.Helper()
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{
			ID: fmt.Sprintf("job-20261125T%06dZ-%08x", i%240000, i), Type: Backup, Config: &JobConfig{Compression: true},
			StorageInterface: StorageS3,
			Storage:          StorageConfig{Bucket: "backups", Credentials: Credentials{AccessKey: "AKIAEXAMPLE", SecretKey: "secret-example"}, Endpoint: "https://s3.example.com", Path: "team/db", Region: "eu-west-1"},
		}
	}
	text, err := MarshalJobs(jobs, Requirer)
	if err != nil {
		b.Fatal(err)
	}
	return text
}

func benchParse(b *testing.B, n int) {
	text := benchJobs(b, n)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		l := ParseJobs(text, Requirer)
		if len(l.Entries) != n {
			b.Fatalf("parsed %d jobs", len(l.Entries))
		}
	}
	b.ReportMetric(float64(len(text))/float64(n), "written-bytes/job")
}

// BenchmarkParseJobs1000 and 10000 measure parse + validate; the two show
// whether the cost is linear in the number of jobs.
func BenchmarkParseJobs1000(b *testing.B)  { benchParse(b, 1000) }
func BenchmarkParseJobs10000(b *testing.B) { benchParse(b, 10000) }

func benchMarshal(b *testing.B, n int) {
	jobs := ParseJobs(benchJobs(b, n), Requirer).Jobs()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := MarshalJobs(jobs, Requirer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalJobs1000(b *testing.B)  { benchMarshal(b, 1000) }
func BenchmarkMarshalJobs10000(b *testing.B) { benchMarshal(b, 10000) }
