package requirer_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// A backup's way through the manager: the action requests it, the leader
// writes the relation databag, a unit reports it, the next hook merges.
func Example() {
	now := time.Date(2026, 11, 25, 13, 1, 2, 0, time.UTC)
	s3 := dbbackup.StorageConfig{Bucket: "backups", Credentials: dbbackup.Credentials{AccessKey: "AKIA...", SecretKey: "..."}}
	var h requirer.History // ParseHistory(peer app databag[HistoryKey])

	// create-backup action (leader): check, then record the request.
	if err := requirer.CanRequest(h, "mysql", dbbackup.Backup, 10); err != nil {
		fmt.Println(err) // action-fail
		return
	}
	id := requirer.NewJobID(now, bytes.NewReader([]byte{0x0a, 0x1b, 0x2c, 0x3d})) // crypto/rand.Reader
	h, err := requirer.Request(h, requirer.Record{
		JobID: id, Application: "mysql", Type: dbbackup.Backup, Compression: true,
		Source: requirer.FromAction, Storage: requirer.StorageOf(s3), RequestedAt: now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Write the relation's application databag (credentials applied here only).
	jobs, err := requirer.RelationJobs(h, "mysql", s3, 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	bag := dbbackup.Databag{}
	if _, err := bag.SetJobs(jobs, dbbackup.Requirer); err != nil {
		fmt.Println(err)
		return
	}

	// A later hook: mysql/0 reports the job done.
	done := jobs[0]
	done.Status, done.ArtefactPath = dbbackup.Success, "mysql/"+id+"/"
	reports := map[string][]dbbackup.Job{"mysql/0": {done.Redacted()}}
	h, changes := requirer.Merge(h, "mysql", reports, now.Add(time.Hour), 24*time.Hour)
	for _, c := range changes {
		fmt.Println(c) // juju-log
	}
	for _, r := range requirer.View(h) {
		fmt.Println(r.JobID, r.Status, r.Unit, r.ArtefactPath)
	}
	// Output:
	// job job-20261125T130102Z-0a1b2c3d of mysql: finished (waiting -> success) by mysql/0
	// job-20261125T130102Z-0a1b2c3d success mysql/0 mysql/job-20261125T130102Z-0a1b2c3d/
}
