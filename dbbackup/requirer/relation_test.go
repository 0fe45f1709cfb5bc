package requirer_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

func TestRelationJobs(t *testing.T) {
	B, R := dbbackup.Backup, dbbackup.Restore
	h := hist(
		waiting("job-1", "mysql", B, 0),
		running(waiting("job-2", "mysql", R, 0), "mysql/0", time.Minute),
		finished(waiting("job-3", "mysql", B, 0), dbbackup.Success, "mysql/0", time.Minute),
		finished(waiting("job-4", "mysql", B, 0), dbbackup.Lost, "", time.Minute),
		waiting("job-5", "pg", B, 0),
		running(waiting("job-6", "mysql", B, 0), "mysql/1", time.Minute),
		waiting("job-7", "mysql", B, 0),
	)
	cases := []struct {
		name  string
		limit int
		want  []string
	}{
		{"under the limit: every pending job of the app", 10, []string{"job-1", "job-2", "job-6", "job-7"}},
		{"at the limit", 4, []string{"job-1", "job-2", "job-6", "job-7"}},
		{"over the limit: running first, then the oldest waiting", 3, []string{"job-1", "job-2", "job-6"}},
		{"limit 2 keeps both running", 2, []string{"job-2", "job-6"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jobs, err := requirer.RelationJobs(h, "mysql", storageConfig(), c.limit)
			if err != nil {
				t.Fatalf("RelationJobs() error = %v", err)
			}
			var got []string
			for _, j := range jobs {
				got = append(got, j.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("job ids = %v, want %v", got, c.want)
			}
			// The jobs are valid requirer jobs, with the credentials applied.
			bag := dbbackup.Databag{}
			if _, err := bag.SetJobs(jobs, dbbackup.Requirer); err != nil {
				t.Fatalf("SetJobs() = %v", err)
			}
			l := bag.Jobs(dbbackup.Requirer)
			if err := l.AllProblems().Err(); err != nil {
				t.Fatalf("written jobs do not parse back: %v", err)
			}
			for _, j := range l.Jobs() {
				if j.Storage.AccessKey != canaryAccess || j.Storage.Bucket != "backups" {
					t.Errorf("job %s storage = %+v, want the configured one", j.ID, j.Storage.Redacted())
				}
				if (j.Type == R) != (j.ArtefactPath != "") {
					t.Errorf("job %s (%s) artefact path %q", j.ID, j.Type, j.ArtefactPath)
				}
			}
		})
	}
}

func TestRelationJobsRefuses(t *testing.T) {
	h := hist(waiting("job-1", "mysql", dbbackup.Backup, 0))
	noKey := storageConfig()
	noKey.SecretKey = ""
	noBucket := storageConfig()
	noBucket.Bucket = ""
	cases := []struct {
		name    string
		storage dbbackup.StorageConfig
		limit   int
		wantErr error
		wantMsg string
	}{
		{"no secret key", noKey, 5, requirer.ErrNoStorage, "storage configuration has no secret-key"},
		{"no bucket", noBucket, 5, requirer.ErrNoStorage, "storage configuration has no bucket"},
		{"zero limit", storageConfig(), 0, nil, "limit 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := requirer.RelationJobs(h, "mysql", c.storage, c.limit)
			if err == nil || !strings.Contains(err.Error(), c.wantMsg) {
				t.Fatalf("RelationJobs() error = %v, want %q", err, c.wantMsg)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("error %v is not %v", err, c.wantErr)
			}
			if strings.Contains(err.Error(), canaryAccess) || strings.Contains(err.Error(), canarySecret) {
				t.Errorf("error text holds a credential: %v", err)
			}
		})
	}
}

func TestRelationJobsEmpty(t *testing.T) {
	h := hist(finished(waiting("job-1", "mysql", dbbackup.Backup, 0), dbbackup.Success, "mysql/0", time.Minute))
	jobs, err := requirer.RelationJobs(h, "mysql", storageConfig(), 5)
	if err != nil || len(jobs) != 0 {
		t.Fatalf("RelationJobs() = %v, %v; want no job", jobs, err)
	}
	bag := dbbackup.Databag{dbbackup.JobsKey: "[]", "other": "x"}
	if changed, err := bag.SetJobs(jobs, dbbackup.Requirer); !changed || err != nil || len(bag) != 1 {
		t.Errorf("SetJobs(no jobs) = %v, %v, bag %v; want the jobs key removed", changed, err, bag)
	}
}
