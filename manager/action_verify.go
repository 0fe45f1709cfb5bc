package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/secret"
)

const (
	// verificationsKey holds, in the peer application databag, the latest
	// verification of each backup (verification), newest last.
	verificationsKey = "verifications"
	// maxVerifications bounds the verifications kept.
	maxVerifications = 200
	// verifyTimeout bounds one verify-backup run: every part of each
	// backup is downloaded and checked.
	verifyTimeout = 2 * time.Hour
)

// verification is the outcome of one check of a backup against its
// manifest (artefact.Verify), kept for list-backups and list-jobs.
type verification struct {
	BackupID    string    `json:"backup-id"`
	Application string    `json:"application"`
	At          time.Time `json:"verified-at"`
	OK          bool      `json:"ok"`
	// Message says what failed; empty when OK.
	Message string `json:"message,omitempty"`
	// Source is "action" or "schedule".
	Source string `json:"source"`
}

// verifyParams are the parameters of verify-backup.
type verifyParams struct {
	BackupID    string `json:"backup-id"`
	Application string `json:"application"`
	Format      string `json:"format"`
}

// verifyBackup checks one backup, or the newest restorable backup of each
// application (of one when application is set), by reading every part
// from the bucket and comparing it with the manifest. The manager runs the
// check itself: it holds the bucket's credentials, and artefact.Verify
// needs no database and no provider unit, so a check never waits for a
// database unit nor loads it. Each outcome is kept; the action fails when
// a backup fails its check.
func (w *world) verifyBackup() error {
	if !w.leader {
		return fail("this unit is not the leader: run the action on the leader unit (marked * in juju status)")
	}
	var p verifyParams
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	id := strings.TrimSpace(p.BackupID)
	if id != "" && !dbbackup.ValidJobID(id) {
		return fail("backup-id %q is not a backup id: run list-backups to see them", clipText(id, 40))
	}
	if p.Application != "" {
		if err := artefact.CheckScope(p.Application); err != nil {
			return fail("application %q is not an application name", clipText(p.Application, 40))
		}
	}
	if w.s3.problem != "" {
		return fail("%s", w.s3.problem)
	}
	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	vs, err := w.verify(ctx, id, p.Application, "action")
	if err != nil {
		return err
	}
	if err := w.savePeer(); err != nil {
		return err
	}
	res := map[string]string{"verified": strconv.Itoa(len(vs))}
	failed := 0
	for _, v := range vs {
		if !v.OK {
			failed++
		}
	}
	res["failed"] = strconv.Itoa(failed)
	if p.Format == "json" {
		b, err := json.Marshal(vs)
		if err != nil {
			return fail("cannot encode the verifications: %v", err)
		}
		res["results"] = string(b)
	} else {
		res["results"] = verificationTable(vs)
	}
	if err := goops.SetActionResults(res); err != nil {
		return err
	}
	if failed > 0 {
		return fail("%d of %d backups failed verification: see results", failed, len(vs))
	}
	return nil
}

// verify checks the backup id, or the newest restorable backup of each
// application (of app when set), and keeps each outcome.
func (w *world) verify(ctx context.Context, id, app, source string) ([]verification, error) {
	sums, err := listWith(ctx, w.s3.storage, artefact.ListOptions{Scope: app})
	if err != nil {
		return nil, err
	}
	var targets []artefact.Summary
	if id != "" {
		s, ok := findBackup(sums, id)
		if !ok {
			return nil, fail("backup %s not found in bucket %s: run list-backups to see the backups", id, w.s3.storage.Bucket)
		}
		if !s.Complete {
			return nil, fail("backup %s of %s is incomplete (no manifest): there is nothing to verify", id, s.Scope)
		}
		targets = append(targets, s)
	} else {
		seen := map[string]bool{}
		for _, s := range sums { // newest first
			if s.Complete && !seen[s.Scope] {
				seen[s.Scope] = true
				targets = append(targets, s)
			}
		}
		if len(targets) == 0 {
			return nil, fail("no complete backup in bucket %s to verify: run create-backup first", w.s3.storage.Bucket)
		}
	}
	st, err := openStore(w.s3.storage)
	if err != nil {
		return nil, err
	}
	out := make([]verification, 0, len(targets))
	for _, s := range targets {
		v := verification{BackupID: s.JobID, Application: s.Scope, At: w.now, Source: source, OK: true}
		key, err := w.keyOf(s, "verify")
		if err == nil {
			_, err = artefact.Verify(ctx, st, s.Prefix, key)
		}
		if err != nil {
			v.OK, v.Message = false, clipText(secret.Guard(err, w.secrets()).Error(), 300)
			goops.LogWarningf("backup %s of %s failed verification: %s", s.JobID, s.Scope, v.Message)
		} else {
			goops.LogInfof("backup %s of %s verified", s.JobID, s.Scope)
		}
		w.noteVerification(v)
		out = append(out, v)
	}
	return out, nil
}

// loadVerifications reads the kept verifications and the verify
// schedule's state; an unreadable record is started afresh with an error
// in the log.
func (w *world) loadVerifications() {
	st, err := requirer.ParseScheduleStates(w.peer.data[verifyScheduleKey])
	if err != nil {
		goops.LogErrorf("%v; the verify schedules start afresh", err)
	}
	w.peer.verifySchedule = st
	w.peer.verifications = nil
	if text := w.peer.data[verificationsKey]; text != "" {
		if err := json.Unmarshal([]byte(text), &w.peer.verifications); err != nil {
			goops.LogErrorf("cannot read the verifications in the peer databag, starting afresh: %v", err)
			w.peer.verifications = nil
		}
	}
}

// noteVerification keeps v as the latest verification of its backup,
// keeping the newest maxVerifications.
func (w *world) noteVerification(v verification) {
	kept := w.peer.verifications[:0:0]
	for _, o := range w.peer.verifications {
		if o.BackupID != v.BackupID {
			kept = append(kept, o)
		}
	}
	kept = append(kept, v)
	if len(kept) > maxVerifications {
		kept = kept[len(kept)-maxVerifications:]
	}
	w.peer.verifications = kept
}

// verificationsText is the stored verifications; "" when none.
func verificationsText(vs []verification) string {
	if len(vs) == 0 {
		return ""
	}
	b, _ := json.Marshal(vs)
	return string(b)
}

// addVerifications fills the verified column of list-backups' rows.
func (w *world) addVerifications(rows []backup) {
	if len(w.peer.verifications) == 0 {
		return
	}
	byID := map[string]verification{}
	for _, v := range w.peer.verifications {
		byID[v.BackupID] = v
	}
	for i := range rows {
		if v, ok := byID[rows[i].ID]; ok && v.Application == rows[i].Application {
			rows[i].Verified = verifiedCell(v)
		}
	}
}

// verifiedCell is a verification as list-backups shows it.
func verifiedCell(v verification) string {
	if v.OK {
		return "ok " + timeCell(v.At)
	}
	return "FAILED " + timeCell(v.At)
}

// verificationTable formats verifications for an admin.
func verificationTable(vs []verification) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backup-id\tapplication\tresult\tverified-at\tsource\tmessage")
	for _, v := range vs {
		result := "ok"
		if !v.OK {
			result = "failed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.BackupID, v.Application, result, timeCell(v.At), v.Source, dash(clipText(v.Message, 120)))
	}
	tw.Flush()
	if len(vs) == 0 {
		b.WriteString("(no verifications)\n")
	}
	return b.String()
}
