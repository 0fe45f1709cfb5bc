package manager

import (
	"crypto/rand"
	"fmt"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// A backup its provider reported successful, at an artefact-path, whose
// folder holds no manifest of ours (a provider that writes the seed's
// format, or one whose manifest is gone) is restorable all the same: the
// manager cannot verify it itself and passes the restore to the provider
// that made it, which checks what it can.
const (
	// statusUnverified is list-backups' status of such a backup.
	statusUnverified = "unverified"
	// unverifiedNote is its message.
	unverifiedNote = "no manifest in the bucket: the manager cannot verify this backup; the provider that made it restores it"
)

// restoreUnverified requests the restore of r, a successful backup of the
// history without a manifest, into the application that made it (the
// manager cannot tell the backup's engine, so it restores nowhere else).
func (w *world) restoreUnverified(r requirer.Record, into string) error {
	if into != "" && into != r.Application {
		return fail("backup %s of %s has no manifest in bucket %s: the manager cannot verify its engine, so it restores it only into %s", r.JobID, r.Application, w.s3.storage.Bucket, r.Application)
	}
	app, err := w.target(r.Application)
	if err != nil {
		return err
	}
	job := requirer.NewJobID(w.now, rand.Reader)
	err = w.request(requirer.Record{
		JobID: job, Application: app, Type: dbbackup.Restore, Compression: r.Compression,
		Source: requirer.FromAction, Storage: requirer.StorageOf(w.s3.storage), RequestedAt: w.now,
		ArtefactPath: r.ArtefactPath,
	})
	if err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"job-id": job, "backup-id": r.JobID, "application": app, "status": string(dbbackup.Waiting),
		"verified": "false",
		"message": fmt.Sprintf("restore %s of backup %s into %s requested; %s; follow it with: juju run %s show-job job-id=%s",
			job, r.JobID, app, unverifiedNote, w.unit, job),
	})
}
