package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
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
}

// loadDeletions reads the deletion log and the last retention run; an
// unreadable log is started afresh with an error in the log.
func (w *world) loadDeletions() {
	if text := w.peer[deletionsKey]; text != "" {
		if err := json.Unmarshal([]byte(text), &w.deletions); err != nil {
			goops.LogErrorf("cannot read the deletion log in the peer databag, starting it afresh: %v", err)
			w.deletions = nil
		}
	}
	if t, err := time.Parse(time.RFC3339, w.peer[retentionRunKey]); err == nil {
		w.retentionRun = t
	}
}

// noteDeletion appends d to the log, keeping the newest maxDeletions.
func (w *world) noteDeletion(d deletion) {
	w.deletions = append(w.deletions, d)
	if len(w.deletions) > maxDeletions {
		w.deletions = w.deletions[len(w.deletions)-maxDeletions:]
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
	if w.policyErr != nil || w.s3Problem != "" || w.peerID == "" {
		return
	}
	periodic := w.now.Sub(w.retentionRun) >= retentionEvery || w.retentionRun.After(w.now)
	var apps []string
	for _, app := range sortedKeys(w.databases) {
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
			goops.LogWarningf("retention of %s: %s", app, scrub(err.Error(), w.secrets()))
		}
	}
	if periodic || force {
		w.retentionRun = w.now
	}
}

// retain deletes app's expired backups.
func (w *world) retain(ctx context.Context, app string) error {
	rule := w.policy.retention(app)
	// The listing updates the scope's catalog, so the next run (hourly)
	// reads only the manifests of new backups.
	sums, err := listBucket(ctx, w.storage, app)
	if err != nil {
		return err
	}
	rows := mergeBackups(w.history, sums, true, w.storage.Path, app)
	inBucket := map[string]bool{}
	for _, sum := range sums {
		inBucket[sum.JobID] = true
	}
	var kept []requirer.Kept
	paths := map[string]backup{}
	for _, r := range rows {
		if !r.Restorable {
			if err := w.dropLeftovers(ctx, app, r, inBucket[r.ID]); err != nil {
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
		n, err := deleteObjects(ctx, w.storage, b.Path)
		if err != nil {
			return err
		}
		if _, ok := w.history.Find(k.ID); ok {
			w.history = markDeleted(w.history, k.ID, w.now, "retention ("+rule.String()+")")
		}
		w.noteDeletion(deletion{BackupID: k.ID, Application: app, Finished: k.FinishedAt, DeletedAt: w.now,
			By: "retention", Reason: rule.String(), ArtefactPath: b.Path, Objects: n})
		goops.LogInfof("retention deleted backup %s of %s (finished %s; %s): %d objects removed from %s",
			k.ID, app, timeCell(k.FinishedAt), rule, n, b.Path)
	}
	return nil
}

// leftoverReason is the rule of a deletion of a failed backup's objects.
const leftoverReason = "objects of a failed backup"

// dropLeftovers deletes the objects a failed or lost backup left in the
// bucket (a folder without a manifest): the history says the job ended, so
// no unit is writing them. Incomplete folders the history does not know
// are left alone: a backup another manager runs could be writing them.
func (w *world) dropLeftovers(ctx context.Context, app string, r backup, present bool) error {
	rec, ok := w.history.Find(r.ID)
	if !present || !ok || rec.Type != dbbackup.Backup || (rec.Status != requirer.Error && rec.Status != requirer.Lost) {
		return nil
	}
	n, err := deleteObjects(ctx, w.storage, r.Path)
	if err != nil {
		return err
	}
	w.noteDeletion(deletion{BackupID: r.ID, Application: app, Finished: rec.FinishedAt, DeletedAt: w.now,
		By: "retention", Reason: leftoverReason, ArtefactPath: r.Path, Objects: n})
	goops.LogInfof("retention deleted the %d objects %s backup %s of %s left in %s", n, rec.Status, r.ID, app, r.Path)
	return nil
}

// deletionTable formats the deletion log, newest first.
func deletionTable(ds []deletion) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backup-id\tapplication\tfinished\tdeleted\tby\trule\tobjects")
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", d.BackupID, d.Application, timeCell(d.Finished),
			timeCell(d.DeletedAt), d.By, dash(d.Reason), d.Objects)
	}
	tw.Flush()
	return b.String()
}
