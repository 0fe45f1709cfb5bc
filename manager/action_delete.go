package manager

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/store"
)

// deletedNote starts the message of a history record whose backup
// delete-backup or retention removed: the record stays, for the audit trail.
const deletedNote = "deleted by "

// statusDeleted: list-backups' status of a backup delete-backup removed.
const statusDeleted = "deleted"

// deleteParams are the parameters of delete-backup.
type deleteParams struct {
	BackupID string `json:"backup-id"`
	Force    bool   `json:"force"`
}

// deleteBackup removes every object of one backup from the bucket and
// notes the deletion in the history record, refusing a restore job, a
// backup still running, one a pending restore uses, and the only
// successful backup of its application unless force is set.
func (w *world) deleteBackup() error {
	if !w.leader {
		return fail("this unit is not the leader: run the action on the leader unit (marked * in juju status)")
	}
	var p deleteParams
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	id := strings.TrimSpace(p.BackupID)
	if !dbbackup.ValidJobID(id) {
		return fail("backup-id %q is not a backup id: run list-backups to see them", clipText(id, 40))
	}
	if w.historyErr != nil {
		return w.historyErr
	}
	if w.s3.problem != "" {
		return fail("%s", w.s3.problem)
	}
	if err := w.merge(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	target, err := w.deletable(ctx, id, p.Force)
	if err != nil {
		return err
	}
	removed, err := deleteObjects(ctx, w.s3.storage, target.path)
	if err != nil {
		return err
	}
	if _, ok := w.history.Find(id); ok {
		w.history = markDeleted(w.history, id, w.now, "delete-backup")
	}
	reason := ""
	if target.only {
		reason = "force: the only successful backup"
	}
	w.noteDeletion(deletion{BackupID: id, Application: target.app, Finished: target.finished, DeletedAt: w.now,
		By: "delete-backup", Reason: reason, ArtefactPath: target.path, Objects: removed})
	goops.LogInfof("delete-backup deleted backup %s of %s: %d objects removed from %s", id, target.app, removed, target.path)
	if err := w.savePeer(); err != nil {
		return err
	}
	if err := w.setStatus(); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"deleted": target.path, "backup-id": id, "application": target.app,
		"objects": strconv.Itoa(removed),
		"message": fmt.Sprintf("deleted backup %s of %s: %d objects removed from %s", id, target.app, removed, target.path),
	})
}

// deleteTarget is the backup delete-backup may remove.
type deleteTarget struct {
	app      string
	path     string // artefact-path: the key prefix from the bucket root
	finished time.Time
	only     bool // the only successful backup of app (force given)
}

// deletable finds backup id in the history and the bucket and refuses
// what must not be deleted.
func (w *world) deletable(ctx context.Context, id string, force bool) (deleteTarget, error) {
	rec, inHistory := w.history.Find(id)
	scope := ""
	if inHistory {
		switch {
		case rec.Type != dbbackup.Backup:
			return deleteTarget{}, fail("%s is a %s job, not a backup: run list-backups to see the backups", id, rec.Type)
		case !rec.Status.Terminal():
			return deleteTarget{}, fail("backup %s of %s is still %s: wait for it to finish (show-job job-id=%s)", id, rec.Application, rec.Status, id)
		}
		scope = rec.Application
	}
	sums, err := listScope(ctx, w.s3.storage, scope)
	if err != nil {
		return deleteTarget{}, err
	}
	sum, found := findBackup(sums, id)
	switch {
	case !found && inHistory:
		return deleteTarget{}, fail("backup %s of %s has no objects in bucket %s (already deleted, or stored with another bucket or path): nothing to delete", id, rec.Application, w.s3.storage.Bucket)
	case !found:
		return deleteTarget{}, fail("backup %s not found in the job history or in bucket %s: run list-backups to see the backups", id, w.s3.storage.Bucket)
	}
	t := deleteTarget{app: sum.Scope, path: sum.Ref().Under(w.s3.storage.Path).Path()}
	if err := restoreUsing(w.history, t.path); err != nil {
		return deleteTarget{}, err
	}
	rows := mergeBackups(w.history, sums, true, w.s3.storage.Path, t.app)
	restorable, self := 0, false
	for _, r := range rows {
		if r.Restorable {
			restorable++
			self = self || r.ID == id
		}
		if r.ID == id {
			t.finished = r.Finished
		}
	}
	if self && restorable == 1 {
		if !force {
			return deleteTarget{}, fail("backup %s is the only successful backup of %s: take another first, or run with force=true to delete it anyway", id, t.app)
		}
		t.only = true
	}
	return t, nil
}

// restoreUsing refuses when a waiting or running restore of the history
// reads the backup at artefactPath.
func restoreUsing(h requirer.History, artefactPath string) error {
	want, err := artefact.ParseRef(artefactPath)
	if err != nil {
		return fail("cannot delete backup at %q: %v", clipText(artefactPath, 200), err)
	}
	for _, r := range h.Records {
		if r.Type != dbbackup.Restore || r.Status.Terminal() {
			continue
		}
		if got, err := artefact.ParseRef(r.ArtefactPath); err == nil && got == want {
			where := ""
			if r.Unit != "" {
				where = " on " + r.Unit
			}
			return fail("restore %s of %s is %s%s from this backup (%s): wait for it to finish (show-job job-id=%s)", r.JobID, r.Application, r.Status, where, artefactPath, r.JobID)
		}
	}
	return nil
}

// listScope lists the backups of one scope (all when app is empty)
// without repairing any index entry or card: delete-backup writes nothing
// but deletions.
func listScope(ctx context.Context, cfg dbbackup.StorageConfig, app string) ([]artefact.Summary, error) {
	return listWith(ctx, cfg, artefact.ListOptions{Scope: app})
}

// deleteObjects removes the backup at artefactPath with the store rooted
// at the bucket (artefact.Delete: exactly one backup, the objects directly
// in its folder), and returns how many there were: those objects, its
// scope's index entry and its card.
func deleteObjects(ctx context.Context, cfg dbbackup.StorageConfig, artefactPath string) (int, error) {
	ref, err := artefact.ParseRef(artefactPath)
	if err != nil {
		return 0, fail("cannot delete backup at %q: %v", clipText(artefactPath, 200), err)
	}
	prefix := ref.Path()
	st, err := openRoot(cfg)
	if err != nil {
		return 0, err
	}
	n := 0
	for obj, err := range st.List(ctx, prefix, store.ListOptions{}) {
		if err != nil {
			return 0, fmt.Errorf("cannot list the objects of %s in bucket %s: %w", artefactPath, cfg.Bucket, err)
		}
		if !obj.IsPrefix {
			n++
		}
	}
	extra, err := artefact.ListingEntries(ctx, st, ref)
	if err != nil {
		return 0, fmt.Errorf("cannot delete backup %s from bucket %s: %w", artefactPath, cfg.Bucket, err)
	}
	n += extra
	if err := artefact.Delete(ctx, st, prefix); errors.Is(err, artefact.ErrNoBackup) {
		return 0, fail("no backup at %s in bucket %s: nothing to delete (run list-backups to see the backups)", artefactPath, cfg.Bucket)
	} else if err != nil {
		return 0, fmt.Errorf("cannot delete backup %s from bucket %s (run delete-backup again to remove what is left): %w", artefactPath, cfg.Bucket, err)
	}
	return n, nil
}

// markDeleted notes in record id's message that by (delete-backup, or
// retention and its rule) deleted its backup.
func markDeleted(h requirer.History, id string, now time.Time, by string) requirer.History {
	out := requirer.History{Records: make([]requirer.Record, len(h.Records)), Dropped: h.Dropped}
	copy(out.Records, h.Records)
	for i, r := range out.Records {
		if r.JobID != id {
			continue
		}
		msg := deletedNote + by + " at " + now.UTC().Format("2006-01-02T15:04:05Z")
		if r.Message != "" && !strings.HasPrefix(r.Message, deletedNote) {
			msg += "; was: " + r.Message
		}
		out.Records[i].Message = clipText(msg, requirer.MaxMessage/2)
	}
	return out
}
