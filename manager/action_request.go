package manager

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// listTimeout bounds the bucket listing of an action.
const listTimeout = time.Minute

// requestable checks what every request needs: leadership, the peer
// relation, credentials the bucket accepts. On a refusal, nothing is
// requested of any provider.
func (w *world) requestable() error {
	if !w.leader {
		return fail("this unit is not the leader: run the action on the leader unit (marked * in juju status)")
	}
	if w.peer.id == "" {
		return fail("the peer relation is not set up yet: retry in a moment")
	}
	if w.historyErr != nil {
		return w.historyErr
	}
	if w.s3.problem != "" {
		return fail("%s", w.s3.problem)
	}
	if err := w.probe(); err != nil {
		w.saveCheckOnly()
		return fail("the s3 bucket does not accept the credentials or cannot be reached: %s", err)
	}
	return nil
}

// request records a new job and writes it for the provider, after the
// checks of the history's limits.
func (w *world) request(r requirer.Record) error {
	if err := w.merge(); err != nil {
		return err
	}
	if err := requirer.CanRequest(w.history, r.Application, r.Type, w.cfg.maxPending()); err != nil {
		return err
	}
	h, err := requirer.Request(w.history, r)
	if err != nil {
		return err
	}
	w.history = h
	storage, uri, err := w.wireFor(r.Application)
	if err != nil {
		return err
	}
	if err := w.writeJobsOf(r.Application, storage, uri); err != nil {
		return err
	}
	if err := w.savePeer(); err != nil {
		return err
	}
	return w.setStatus()
}

// createBackup requests a backup and returns its job id at once.
func (w *world) createBackup() error {
	var p struct {
		Application string `json:"application"`
		Compression *bool  `json:"compression"`
		Method      string `json:"method"`
	}
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	app, err := w.target(p.Application)
	if err != nil {
		return err
	}
	if err := w.requestable(); err != nil {
		return err
	}
	method, err := w.backupMethod(app, p.Method)
	if err != nil {
		return err
	}
	compression := p.Compression == nil || *p.Compression
	id := w.history.NextJobID(w.now, rand.Reader)
	rec, err := w.newBackup(requirer.Record{
		JobID: id, Application: app, Type: dbbackup.Backup, Compression: compression,
		Source: requirer.FromAction, Storage: requirer.StorageOf(w.s3.storage), RequestedAt: w.now,
		Method: method,
	})
	if err != nil {
		return err
	}
	if err := w.request(rec); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"job-id": id, "backup-id": id, "application": app, "status": string(dbbackup.Waiting),
		"message": fmt.Sprintf("backup %s of %s requested; follow it with: juju run %s show-job job-id=%s", id, app, w.unit, id),
	})
}

// restore requests a restore of a backup into a related application of
// the same engine, refusing what cannot work.
func (w *world) restore() error {
	var p struct {
		BackupID      string `json:"backup-id"`
		Application   string `json:"application"`
		RestoreToTime string `json:"restore-to-time"`
	}
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	id := strings.TrimSpace(p.BackupID)
	if p.RestoreToTime != "" {
		return w.restoreToTime(id, p.Application, p.RestoreToTime)
	}
	if !dbbackup.ValidJobID(id) {
		return fail("backup-id %q is not a backup id: run list-backups to see them", clipText(id, 40))
	}
	if err := w.requestable(); err != nil {
		return err
	}
	rec, inHistory := w.history.Find(id)
	if inHistory {
		if err := restorableRecord(rec); err != nil {
			return err
		}
		if err := w.restorableKey(rec); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	scope := ""
	if inHistory {
		scope = rec.Application
	}
	sums, err := listBucket(ctx, w.s3.storage, scope)
	if err != nil {
		return err
	}
	sum, found := findBackup(sums, id)
	switch {
	case !found && inHistory && rec.ArtefactPath != "" && !strings.HasPrefix(rec.Message, deletedNote):
		return w.restoreUnverified(rec, p.Application)
	case !found && inHistory:
		return fail("backup %s of %s has no manifest in bucket %s (deleted, or taken with another bucket or path): it cannot be restored", id, rec.Application, w.s3.storage.Bucket)
	case !found:
		return fail("backup %s not found in the job history or in bucket %s: run list-backups to see the backups", id, w.s3.storage.Bucket)
	case !sum.Complete:
		return fail("backup %s of %s is incomplete (no manifest): it failed or was interrupted and cannot be restored", id, sum.Scope)
	}
	app := p.Application
	if app == "" {
		app = sum.Scope
	}
	if app, err = w.target(app); err != nil {
		return err
	}
	if err := w.sameEngine(ctx, sum, app, sums); err != nil {
		return err
	}
	job := w.history.NextJobID(w.now, rand.Reader)
	err = w.request(requirer.Record{
		JobID: job, Application: app, Type: dbbackup.Restore, Compression: sum.Compression == artefact.CompressionZstd,
		Source: requirer.FromAction, Storage: requirer.StorageOf(w.s3.storage), RequestedAt: w.now,
		ArtefactPath: sum.Ref().Under(w.s3.storage.Path).Path(),
	})
	if err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"job-id": job, "backup-id": id, "application": app, "status": string(dbbackup.Waiting),
		"message": fmt.Sprintf("restore %s of backup %s into %s requested; follow it with: juju run %s show-job job-id=%s", job, id, app, w.unit, job),
	})
}

// restorableRecord refuses a history record that is not a finished,
// successful backup.
func restorableRecord(r requirer.Record) error {
	switch {
	case r.Type != dbbackup.Backup:
		return fail("%s is a %s job, not a backup: run list-backups to see the backups", r.JobID, r.Type)
	case r.Status == dbbackup.Waiting || r.Status == dbbackup.Running:
		return fail("backup %s of %s is still %s: wait for it to finish (show-job job-id=%s)", r.JobID, r.Application, r.Status, r.JobID)
	case r.Status != dbbackup.Success:
		msg := fmt.Sprintf("backup %s of %s ended in %s", r.JobID, r.Application, r.Status)
		if r.Message != "" {
			msg += " (" + clipText(r.Message, 200) + ")"
		}
		return fail("%s: it cannot be restored; choose a successful backup from list-backups", msg)
	}
	return nil
}

// findBackup returns the summary of backup id.
func findBackup(sums []artefact.Summary, id string) (artefact.Summary, bool) {
	var best artefact.Summary
	found := false
	for _, s := range sums {
		if s.JobID == id && (!found || s.Complete && !best.Complete) {
			best, found = s, true
		}
	}
	return best, found
}

// sameEngine refuses a restore into an application whose engine, known
// from its own backups in the bucket, differs from the backup's. An
// application with no backup yet is let through: its provider refuses a
// wrong engine with its own error.
func (w *world) sameEngine(ctx context.Context, b artefact.Summary, app string, sums []artefact.Summary) error {
	if app != b.Scope {
		more, err := listBucket(ctx, w.s3.storage, app)
		if err != nil {
			return err
		}
		sums = more
	}
	for _, s := range sums {
		if s.Scope == app && s.Complete && s.Engine != "" {
			if s.Engine != b.Engine {
				return fail("backup %s is a %s backup, but %s runs %s (backup %s): restore it into an application of the same engine", b.JobID, b.Engine, app, s.Engine, s.JobID)
			}
			return compatibleVersion(b, s, app)
		}
	}
	return nil
}
