package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// Keys of the peer application databag for retention.
const (
	// deletionsKey holds the latest deletions (deletion), newest last.
	deletionsKey = "deletions"
	// retentionRunKey holds when retention last ran (RFC 3339).
	retentionRunKey = "retention-run"
)

// maxDeletions bounds the deletions the peer databag keeps.
const maxDeletions = 100

// retentionHooks are the hooks after which retention runs at once: the
// options may have changed, or the leader is new.
var retentionHooks = map[string]bool{"config-changed": true, "leader-elected": true, "upgrade-charm": true}

// retentionEvery is how often retention runs without a reason to run
// sooner (a backup that finished, a configuration change, a new leader).
const retentionEvery = time.Hour

// deletion records one backup removed from the bucket, for list-jobs.
type deletion struct {
	BackupID    string    `json:"backup-id"`
	Application string    `json:"application"`
	Finished    time.Time `json:"finished,omitzero"`
	DeletedAt   time.Time `json:"deleted-at"`
	// By is "retention" or "delete-backup".
	By string `json:"by"`
	// Reason is the rule that let it go, or "force" for delete-backup.
	Reason       string `json:"reason,omitempty"`
	ArtefactPath string `json:"artefact-path"`
	Objects      int    `json:"objects"`
	// Uploads is the number of unfinished uploads aborted under the
	// backup's folder.
	Uploads int `json:"uploads,omitempty"`
}

// loadDeletions reads the deletion log and the last retention run; an
// unreadable log is started afresh with an error in the log.
func (w *world) loadDeletions() {
	if text := w.peer.data[deletionsKey]; text != "" {
		if err := json.Unmarshal([]byte(text), &w.peer.deletions); err != nil {
			goops.LogErrorf("cannot read the deletion log in the peer databag, starting it afresh: %v", err)
			w.peer.deletions = nil
		}
	}
	if t, err := time.Parse(time.RFC3339, w.peer.data[retentionRunKey]); err == nil {
		w.peer.retentionRun = t
	}
}

// noteDeletion appends d to the log, keeping the newest maxDeletions.
func (w *world) noteDeletion(d deletion) {
	w.peer.deletions = append(w.peer.deletions, d)
	if len(w.peer.deletions) > maxDeletions {
		w.peer.deletions = w.peer.deletions[len(w.peer.deletions)-maxDeletions:]
	}
}

// deletionsText is the stored deletion log; "" when empty.
func deletionsText(ds []deletion) string {
	if len(ds) == 0 {
		return ""
	}
	b, _ := json.Marshal(ds)
	return string(b)
}

// timeText is t in RFC 3339, "" when zero.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// runRetention deletes the backups the retention options let go (leader
// only, with usable credentials), for the applications with a reason to
// look now: a backup of theirs just succeeded, or force (a configuration
// change, a new leader, an upgrade), or retentionEvery has passed. A
// failure is logged; the hook goes on, so jobs are still written.
func (w *world) runRetention(force bool) {
	if w.policyErr != nil || w.s3.problem != "" || w.peer.id == "" {
		return
	}
	periodic := w.now.Sub(w.peer.retentionRun) >= retentionEvery || w.peer.retentionRun.After(w.now)
	var apps []string
	for _, app := range sortedKeys(w.rel.databases) {
		if w.policy.retention(app).Set() && (force || periodic || w.finished[app]) {
			apps = append(apps, app)
		}
	}
	if len(apps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	for _, app := range apps {
		if err := w.retain(ctx, app); err != nil {
			goops.LogWarningf("retention of %s: %s", app, secret.Guard(err, w.secrets()))
		}
	}
	if periodic || force {
		w.peer.retentionRun = w.now
	}
}

// retain deletes app's expired backups.
func (w *world) retain(ctx context.Context, app string) error {
	rule := w.policy.retention(app)
	// The listing writes the cards it found missing, so the next run
	// (hourly) reads no manifest.
	sums, err := listBucket(ctx, w.s3.storage, app)
	if err != nil {
		return err
	}
	w.noteListing(app, sums)
	rows := mergeBackups(w.history, sums, true, w.s3.storage.Path, app)
	inBucket := map[string]bool{}
	for _, sum := range sums {
		inBucket[sum.JobID] = true
	}
	aborted, err := w.abortUploads(ctx, app, sums)
	if err != nil {
		w.noteAborted(app, aborted)
		return err
	}
	var kept []requirer.Kept
	paths := map[string]backup{}
	for _, r := range rows {
		if !r.Restorable {
			if err := w.dropLeftovers(ctx, app, r, inBucket[r.ID], aborted); err != nil {
				return err
			}
			continue
		}
		// The manager's own observation of the finish when it has one
		// (the clock retention-days is measured with), else the manifest's.
		fin := r.Finished
		if rec, ok := w.history.Find(r.ID); ok && !rec.FinishedAt.IsZero() {
			fin = rec.FinishedAt
		}
		kept = append(kept, requirer.Kept{ID: r.ID, FinishedAt: fin, InUse: restoreUsing(w.history, r.Path) != nil})
		paths[r.ID] = r
	}
	for _, k := range requirer.Expire(rule, kept, w.now) {
		b := paths[k.ID]
		n, err := deleteObjects(ctx, w.s3.storage, b.Path)
		if err != nil {
			return err
		}
		if _, ok := w.history.Find(k.ID); ok {
			w.history = markDeleted(w.history, k.ID, w.now, "retention ("+rule.String()+")")
		}
		w.noteDeletion(deletion{BackupID: k.ID, Application: app, Finished: k.FinishedAt, DeletedAt: w.now,
			By: "retention", Reason: rule.String(), ArtefactPath: b.Path, Objects: n, Uploads: aborted.take(k.ID)})
		goops.LogInfof("retention deleted backup %s of %s (finished %s; %s): %d objects removed from %s",
			k.ID, app, timeCell(k.FinishedAt), rule, n, b.Path)
	}
	w.noteAborted(app, aborted)
	return nil
}

// leftoverReason is the rule of a deletion of a failed backup's objects.
const leftoverReason = "objects of a failed backup"

// dropLeftovers deletes the objects a failed or lost backup left in the
// bucket (a folder without a manifest): the history says the job ended, so
// no unit is writing them. Its deletion also reports the unfinished
// uploads abortUploads aborted there. Incomplete folders the history does
// not know are left alone: a backup another manager runs could be writing
// them.
func (w *world) dropLeftovers(ctx context.Context, app string, r backup, present bool, aborted abortedUploads) error {
	rec, ok := w.history.Find(r.ID)
	if !ok || rec.Type != dbbackup.Backup || (rec.Status != dbbackup.Error && rec.Status != dbbackup.Lost) {
		return nil
	}
	if !present && aborted[r.ID].n == 0 {
		return nil
	}
	n := 0
	if present {
		var err error
		if n, err = deleteObjects(ctx, w.s3.storage, r.Path); err != nil {
			return err
		}
	}
	path := r.Path
	if path == "" {
		// A job that failed before its first object reports no path.
		path = aborted[r.ID].path
	}
	up := aborted.take(r.ID)
	w.noteDeletion(deletion{BackupID: r.ID, Application: app, Finished: rec.FinishedAt, DeletedAt: w.now,
		By: "retention", Reason: leftoverReason, ArtefactPath: path, Objects: n, Uploads: up})
	goops.LogInfof("retention deleted the %d objects %s backup %s of %s left in %s (unfinished uploads aborted: %d)", n, rec.Status, r.ID, app, path, up)
	return nil
}

// The rules of the abort of a backup's unfinished uploads when none of its
// objects is deleted.
const (
	uploadsEndedReason    = "unfinished uploads of an ended backup"
	uploadsCompleteReason = "unfinished uploads of a complete backup"
)

// abortedUploads holds, by backup id, the unfinished uploads retention
// aborted that no deletion reports yet.
type abortedUploads map[string]abortedJob

// abortedJob is the abort of one backup's unfinished uploads.
type abortedJob struct {
	n        int
	reason   string
	path     string
	finished time.Time
}

// take returns the number of uploads aborted under backup id, and leaves
// their report to the caller.
func (a abortedUploads) take(id string) int {
	n := a[id].n
	delete(a, id)
	return n
}

// uploadsAbortable reports whether the unfinished uploads of backup id may
// be aborted, and by which rule: the history says its job ended, or the
// history does not know it and the bucket holds its manifest (a complete
// backup has no upload in progress). A job the history has waiting or
// running is never touched: its unit may be uploading. An incomplete
// folder the history does not know is not either: a backup another
// manager runs could be writing it.
func uploadsAbortable(h requirer.History, id string, complete bool) (string, bool) {
	if rec, ok := h.Find(id); ok && rec.Type == dbbackup.Backup {
		switch {
		case !rec.Status.Terminal():
			return "", false
		case complete:
			return uploadsCompleteReason, true
		}
		return uploadsEndedReason, true
	}
	if complete {
		return uploadsCompleteReason, true
	}
	return "", false
}

// abortUploads aborts the unfinished uploads of app's backups that
// uploadsAbortable lets go: the parts a killed or failed upload left,
// stored and paid for though no listing of objects shows them. A store
// that refuses to list them is logged and retention goes on.
func (w *world) abortUploads(ctx context.Context, app string, sums []artefact.Summary) (abortedUploads, error) {
	aborted := abortedUploads{}
	st, err := openStore(w.s3.storage)
	if err != nil {
		return aborted, err
	}
	ups, err := artefact.Uploads(ctx, st, artefact.ScopeFolder(app))
	if err != nil {
		goops.LogWarningf("retention of %s: %s", app, secret.Guard(err, w.secrets()))
		return aborted, nil
	}
	sumOf := map[string]artefact.Summary{}
	for _, sum := range sums {
		sumOf[sum.JobID] = sum
	}
	jobs := map[string]bool{}
	for _, u := range ups {
		if ref, ok := artefact.RefOf(u.Key); ok && ref.Scope == app {
			jobs[ref.JobID] = true
		}
	}
	for _, id := range sortedKeys(jobs) {
		sum := sumOf[id]
		reason, ok := uploadsAbortable(w.history, id, sum.Complete)
		if !ok {
			continue
		}
		ref := artefact.Ref{Scope: app, JobID: id}
		n, err := artefact.AbortUploads(ctx, st, ref.Path())
		if n > 0 {
			fin := sum.FinishedAt
			if rec, ok := w.history.Find(id); ok && !rec.FinishedAt.IsZero() {
				fin = rec.FinishedAt
			}
			aborted[id] = abortedJob{n: n, reason: reason, path: ref.Under(w.s3.storage.Path).Path(), finished: fin}
			goops.LogInfof("retention aborted the unfinished uploads of backup %s of %s (%s) in %s: %d", id, app, reason, aborted[id].path, n)
		}
		if err != nil {
			return aborted, fmt.Errorf("cannot abort the unfinished uploads of backup %s in bucket %s: %w", id, w.s3.storage.Bucket, err)
		}
	}
	return aborted, nil
}

// noteAborted notes the aborts no deletion reported: those of backups
// whose objects stay.
func (w *world) noteAborted(app string, aborted abortedUploads) {
	for _, id := range sortedKeys(aborted) {
		a := aborted[id]
		w.noteDeletion(deletion{BackupID: id, Application: app, Finished: a.finished, DeletedAt: w.now,
			By: "retention", Reason: a.reason, ArtefactPath: a.path, Uploads: a.n})
	}
}

// deletionTable formats the deletion log, newest first.
func deletionTable(ds []deletion) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backup-id\tapplication\tfinished\tdeleted\tby\trule\tobjects\tuploads")
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", d.BackupID, d.Application, timeCell(d.Finished),
			timeCell(d.DeletedAt), d.By, dash(d.Reason), d.Objects, d.Uploads)
	}
	tw.Flush()
	return b.String()
}
