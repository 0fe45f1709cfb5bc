package requirer_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

func TestView(t *testing.T) {
	h := sampleHistory()
	rows := requirer.View(h)
	if len(rows) != len(h.Records) {
		t.Fatalf("got %d rows, want %d", len(rows), len(h.Records))
	}
	for i, r := range h.Records {
		want := requirer.Row{
			JobID: r.JobID, Application: r.Application, Type: r.Type, Status: r.Status, Unit: r.Unit,
			Source: r.Source, RequestedAt: r.RequestedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
			ArtefactPath: r.ArtefactPath, Message: r.Message,
		}
		if rows[i] != want {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want)
		}
	}
}

// The seed's example, fixed: the manager requests two jobs, mysql/0 reports
// the restore failed and mysql/1 the backup succeeded.
const (
	seedRequirer = `[{"job-id":"unique-job-id","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"my-bucket","access-key":"` + canaryAccess + `","secret-key":"` + canarySecret + `"}},` +
		`{"job-id":"another-unique-job-id","job-type":"restore","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"my-bucket","access-key":"access-key","secret-key":"secret-key"},"artefact-path":"/path/to/retrieve/backups/"}]`
	seedMySQL0 = `[{"job-id":"another-unique-job-id","job-type":"restore","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"my-bucket","access-key":"access-key","secret-key":"secret-key"},"status":"error","message":"MySQL charm in blocked state"}]`
	seedMySQL1 = `[{"job-id":"unique-job-id","job-type":"backup","job-config":{"compression":false},"storage-interface":"s3","storage-config":{"bucket":"my-bucket","access-key":"access-key","secret-key":"secret-key"},"status":"success","artefact-path":"/path/to/backups-and-logs/"}]`
)

func TestMergeDatabags(t *testing.T) {
	P := dbbackup.Provider
	req := dbbackup.ParseJobs(seedRequirer, dbbackup.Requirer)
	reqOnly := `[{"job-id":"job-3","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"b","access-key":"k","secret-key":"s"}}]`
	running := func(id string) string {
		return `[{"job-id":"` + id + `","job-type":"backup","storage-interface":"s3","storage-config":{"bucket":"b","access-key":"***","secret-key":"***"},"status":"running"}]`
	}
	cases := []struct {
		name      string
		requested dbbackup.List
		reports   map[string]dbbackup.List
		want      []requirer.Row
	}{{
		name:      "seed example",
		requested: req,
		reports:   map[string]dbbackup.List{"mysql/0": dbbackup.ParseJobs(seedMySQL0, P), "mysql/1": dbbackup.ParseJobs(seedMySQL1, P)},
		want: []requirer.Row{
			{JobID: "another-unique-job-id", Application: "mysql", Type: dbbackup.Restore, Status: dbbackup.Error, Unit: "mysql/0", ArtefactPath: "/path/to/retrieve/backups/", Message: "MySQL charm in blocked state"},
			{JobID: "unique-job-id", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Success, Unit: "mysql/1", ArtefactPath: "/path/to/backups-and-logs/"},
		},
	}, {
		name:      "requested, not reported; reported, no longer requested",
		requested: dbbackup.ParseJobs(reqOnly, dbbackup.Requirer),
		reports:   map[string]dbbackup.List{"mysql/1": dbbackup.ParseJobs(seedMySQL1, P)},
		want: []requirer.Row{
			{JobID: "job-3", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Waiting},
			{JobID: "unique-job-id", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Success, Unit: "mysql/1", ArtefactPath: "/path/to/backups-and-logs/"},
		},
	}, {
		name:      "terminal beats running; then the smallest unit",
		requested: dbbackup.List{},
		reports: map[string]dbbackup.List{
			"mysql/2":  dbbackup.ParseJobs(running("unique-job-id"), P),
			"mysql/10": dbbackup.ParseJobs(seedMySQL1, P),
			"mysql/3":  dbbackup.ParseJobs(running("job-9"), P),
			"mysql/4":  dbbackup.ParseJobs(running("job-9"), P),
		},
		want: []requirer.Row{
			{JobID: "job-9", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Running, Unit: "mysql/3"},
			{JobID: "unique-job-id", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Success, Unit: "mysql/10", ArtefactPath: "/path/to/backups-and-logs/"},
		},
	}, {
		name:      "invalid entries are left to the caller's problem list",
		requested: dbbackup.ParseJobs(`[{"job-id":"x"}]`, dbbackup.Requirer),
		reports:   map[string]dbbackup.List{"mysql/0": dbbackup.ParseJobs(`[{"job-id":"y","status":"done"}]`, P)},
		want:      []requirer.Row{},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := requirer.MergeDatabags(c.requested, c.reports)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("MergeDatabags()\n got %+v\nwant %+v", got, c.want)
			}
			for _, r := range got {
				if strings.Contains(r.Message+r.ArtefactPath, "CANARY") {
					t.Errorf("row %s holds a credential", r.JobID)
				}
			}
		})
	}
}
