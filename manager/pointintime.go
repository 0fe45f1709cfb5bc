package manager

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/dbbackup/dbbackup/pitr"
)

// The point-in-time extension (interface/v0/README.md): create-backup's
// method=physical goes only to a provider that advertises physical, a
// restore with restore-to-time only to one that advertises point-in-time;
// the manager picks the base backup from the windows in the bucket.

// backupMethod reads create-backup's method for app: "" (logical, the
// seed's backup) or physical, which its provider must advertise.
func (w *world) backupMethod(app, method string) (dbbackup.Method, error) {
	switch dbbackup.Method(strings.TrimSpace(method)) {
	case "", dbbackup.MethodLogical:
		return "", nil
	case dbbackup.MethodPhysical:
		if caps := w.capsOf(app); !caps.Has(dbbackup.Physical) {
			return "", fail("cannot make a physical backup of %s: its provider does not advertise %s (it advertises: %s); leave method unset for a logical backup",
				app, dbbackup.Physical, advertised(caps))
		}
		return dbbackup.MethodPhysical, nil
	}
	return "", fail("method %q is neither logical nor physical", clipText(method, 40))
}

// restoreToTime requests a restore to the time at: of backupID when given
// (its window must hold the time), else of the newest base of the source
// application whose window holds it. The source is the backup's
// application, else application; the restore goes into application, else
// into the source.
func (w *world) restoreToTime(backupID, application, at string) error {
	target, err := dbbackup.ParseRestoreTime("restore-to-time", strings.TrimSpace(at))
	if err != nil {
		return fail("%v", err)
	}
	if err := w.requestable(); err != nil {
		return err
	}
	scope := ""
	if backupID != "" {
		if !dbbackup.ValidJobID(backupID) {
			return fail("backup-id %q is not a backup id: run list-backups to see them", clipText(backupID, 40))
		}
		if rec, ok := w.history.Find(backupID); ok {
			if err := restorableRecord(rec); err != nil {
				return err
			}
			scope = rec.Application
		}
	} else if scope, err = w.target(application); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*listTimeout)
	defer cancel()
	sums, err := listBucket(ctx, w.s3.storage, scope)
	if err != nil {
		return err
	}
	var base artefact.Summary
	if backupID != "" {
		sum, found := findBackup(sums, backupID)
		switch {
		case !found:
			return fail("backup %s not found in bucket %s: run list-backups to see the backups and the recoverable windows", backupID, w.s3.storage.Bucket)
		case !pitr.Base(sum):
			return fail("backup %s of %s cannot start a restore to a time: it is not a complete physical PostgreSQL backup nor a MariaDB backup of one database with its binary log position", backupID, sum.Scope)
		}
		base, scope = sum, sum.Scope
	}
	app := application
	if app == "" {
		app = scope
	}
	if app, err = w.target(app); err != nil {
		return err
	}
	if caps := w.capsOf(app); !caps.Has(dbbackup.PointInTime) {
		return fail("cannot restore %s to a time: its provider does not advertise %s (it advertises: %s)", app, dbbackup.PointInTime, advertised(caps))
	}
	win, err := w.chooseWindow(ctx, sums, scope, base, target)
	if err != nil {
		return err
	}
	if backupID == "" {
		base, _ = findBackup(sums, win.JobID)
	}
	if err := w.sameEngine(ctx, base, app, sums); err != nil {
		return err
	}
	if _, err := w.keyOf(base, "restore"); err != nil {
		return err
	}
	job := w.history.NextJobID(w.now, rand.Reader)
	err = w.request(requirer.Record{
		JobID: job, Application: app, Type: dbbackup.Restore, Compression: base.Compression == artefact.CompressionZstd,
		Source: requirer.FromAction, Storage: requirer.StorageOf(w.s3.storage), RequestedAt: w.now,
		ArtefactPath: base.Ref().Under(w.s3.storage.Path).Path(), RestoreToTime: target,
	})
	if err != nil {
		return err
	}
	when := target.Format(time.RFC3339Nano)
	return goops.SetActionResults(map[string]string{
		"job-id": job, "backup-id": base.JobID, "application": app, "status": string(dbbackup.Waiting),
		"restore-to-time": when, "window": win.String(),
		"message": fmt.Sprintf("restore %s of %s to %s from backup %s requested; follow it with: juju run %s show-job job-id=%s", job, app, when, base.JobID, w.unit, job),
	})
}

// chooseWindow works out the windows of scope and returns the one the
// restore to target starts from: base's when given, else the newest that
// holds target. A time outside is refused, naming the windows.
func (w *world) chooseWindow(ctx context.Context, sums []artefact.Summary, scope string, base artefact.Summary, target time.Time) (pitr.Window, error) {
	ws, err := w.windows(ctx, sums)
	if err != nil {
		return pitr.Window{}, err
	}
	if base.JobID == "" {
		win, err := pitr.Choose(ws, scope, target)
		if err != nil {
			return win, fail("%v; list-backups shows the windows", err)
		}
		return win, nil
	}
	for _, win := range ws {
		if win.Prefix != base.Prefix {
			continue
		}
		if !win.Holds(target) {
			return win, fail("cannot restore to %s from backup %s: its recoverable window is %s; list-backups shows the others",
				target.Format(time.RFC3339), base.JobID, win)
		}
		return win, nil
	}
	return pitr.Window{}, fail("cannot restore to %s from backup %s of %s: its scope's log archive does not reach past the backup (is archive-logs on for %s?)",
		target.Format(time.RFC3339), base.JobID, base.Scope, base.Scope)
}

// windows works out the recoverable windows of sums; what cannot be worked
// out is logged (scrubbed) and those backups have none.
func (w *world) windows(ctx context.Context, sums []artefact.Summary) ([]pitr.Window, error) {
	st, err := openStore(w.s3.storage)
	if err != nil {
		return nil, err
	}
	ws, errs := pitr.Windows(ctx, st, sums, w.enc.keys)
	for _, err := range errs {
		goops.LogWarningf("%v", secret.Guard(err, w.secrets()))
	}
	return ws, nil
}

// pitrJobs holds back, with a warning, the jobs that use an extension
// app's provider no longer advertises (it stopped after the request): a
// provider that does not know restore-to-time would restore the wrong
// moment.
func (w *world) pitrJobs(app string, jobs []dbbackup.Job) []dbbackup.Job {
	caps := w.capsOf(app)
	out := jobs[:0:0]
	for _, j := range jobs {
		r, _ := w.history.Find(j.ID)
		need := dbbackup.Capability("")
		switch {
		case r.Method == dbbackup.MethodPhysical:
			need = dbbackup.Physical
		case !r.RestoreToTime.IsZero():
			need = dbbackup.PointInTime
		}
		if need != "" && !caps.Has(need) {
			goops.LogWarningf("%s %s of %s waits: its provider does not advertise %s (it advertises: %s)", j.Type, j.ID, app, need, advertised(caps))
			continue
		}
		out = append(out, j)
	}
	return out
}

// addWindows puts the recoverable windows of sums into list-backups'
// results under "windows" (newest base first, at most maxRows), when
// there are any.
func (w *world) addWindows(res map[string]string, sums []artefact.Summary, asJSON bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	ws, err := w.windows(ctx, sums)
	if err != nil || len(ws) == 0 {
		return err
	}
	if len(ws) > maxRows {
		ws = ws[:maxRows]
	}
	if asJSON {
		b, err := json.Marshal(ws)
		if err != nil {
			return err
		}
		res["windows"] = string(b)
		return nil
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "application\tbackup-id\tfrom\tuntil\ttimeline\tnote")
	for _, win := range ws {
		tl := "-"
		if win.Timeline != 0 {
			tl = strconv.FormatUint(uint64(win.Timeline), 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", win.Scope, win.JobID, win.From.Format(time.RFC3339),
			win.Until.Format(time.RFC3339), tl, dash(clipText(win.Note, 80)))
	}
	tw.Flush()
	res["windows"] = b.String()
	return nil
}
