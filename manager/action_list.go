package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/bytesize"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// maxRows bounds the rows of a listing an action returns: action results
// travel as command-line arguments of action-set.
const maxRows = 300

// listParams are the parameters of list-backups and list-jobs.
type listParams struct {
	Application string `json:"application"`
	Format      string `json:"format"`
}

// listBackups shows one page of the backups of the history merged with
// those in the bucket, newest first, filtered as asked; deleted backups
// only when asked.
func (w *world) listBackups() error {
	var q backupQuery
	if err := goops.GetActionParams(&q); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	f, err := q.filter()
	if err != nil {
		return fail("%v", err)
	}
	listed := false
	note := ""
	bucketSums, err := w.bucketBackups(q.Application)
	if err != nil {
		note = "the bucket could not be listed; showing the job history only: " + secret.Guard(err, w.secrets()).Error()
	} else {
		listed = w.s3.problem == ""
		if !listed {
			note = w.s3.problem + "; showing the job history only"
		}
	}
	rows := mergeBackups(w.history, bucketSums, listed, w.s3.storage.Path, q.Application)
	w.addVerifications(rows)
	p := f.page(rows)
	res := map[string]string{"count": strconv.Itoa(p.Total), "shown": strconv.Itoa(len(p.Rows)), "offset": strconv.Itoa(f.offset)}
	if q.Format == "json" {
		b, err := json.Marshal(p.Rows)
		if err != nil {
			return fail("cannot encode the backups: %v", err)
		}
		res["backups"] = string(b)
	} else {
		res["backups"] = backupTable(p.Rows)
	}
	if listed {
		if err := w.addWindows(res, bucketSums, q.Format == "json"); err != nil {
			note = joinNote(note, "the recoverable windows could not be worked out: "+secret.Guard(err, w.secrets()).Error())
		}
	}
	if p.Next > 0 {
		res["next-offset"] = strconv.Itoa(p.Next)
		note = joinNote(note, fmt.Sprintf("%d more backups: run again with offset=%d", p.Total-p.Next, p.Next))
	}
	if p.Hidden > 0 {
		res["deleted-hidden"] = strconv.Itoa(p.Hidden)
		note = joinNote(note, fmt.Sprintf("%d deleted backups not shown: show-deleted=true lists them", p.Hidden))
	}
	if note != "" {
		res["note"] = note
	}
	return goops.SetActionResults(res)
}

// joinNote joins two notes.
func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// bucketBackups lists the bucket, when credentials are known.
func (w *world) bucketBackups(app string) ([]artefact.Summary, error) {
	if w.s3.problem != "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	return listBucket(ctx, w.s3.storage, app)
}

// backupTable formats the backups for an admin to read at a glance.
func backupTable(rows []backup) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backup-id\tapplication\tengine\tstatus\tstarted\tfinished\tsize\tkey\tverified\tartefact-path")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Application, dash(r.Engine), r.Status,
			timeCell(r.Started), timeCell(r.Finished), sizeCell(r), dash(r.KeyFingerprint), dash(r.Verified), dash(r.Path))
	}
	tw.Flush()
	if len(rows) == 0 {
		b.WriteString("(no backups yet)\n")
	}
	return b.String()
}

// listJobs shows every job of the history with its unit and message.
func (w *world) listJobs() error {
	var p listParams
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	rows := requirer.View(w.history)
	// Newest first, as an admin looks for the latest.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	more := 0
	if len(rows) > maxRows {
		more = len(rows) - maxRows
		rows = rows[:maxRows]
	}
	res := map[string]string{"count": strconv.Itoa(len(rows) + more)}
	if p.Format == "json" {
		out := make([]jobJSON, len(rows))
		for i, r := range rows {
			out[i] = toJobJSON(r)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return fail("cannot encode the jobs: %v", err)
		}
		res["jobs"] = string(b)
		if len(w.peer.deletions) > 0 {
			d, err := json.Marshal(w.peer.deletions)
			if err != nil {
				return fail("cannot encode the deletions: %v", err)
			}
			res["deleted"] = string(d)
		}
		if len(w.peer.verifications) > 0 {
			res["verified"] = verificationsText(w.peer.verifications)
		}
	} else {
		res["jobs"] = jobTable(rows)
		if len(w.peer.deletions) > 0 {
			res["deleted"] = deletionTable(w.peer.deletions)
		}
		if len(w.peer.verifications) > 0 {
			res["verified"] = verificationTable(w.peer.verifications)
		}
	}
	var notes []string
	for _, d := range w.history.Dropped {
		notes = append(notes, fmt.Sprintf("%s: %d older jobs no longer kept (%d success, %d error, %d lost, finished through %s)",
			d.Application, d.Success+d.Error+d.Lost, d.Success, d.Error, d.Lost, timeCell(d.FinishedThrough)))
	}
	if more > 0 {
		notes = append(notes, fmt.Sprintf("%d older jobs not shown", more))
	}
	for i, n := range notes {
		res["note-"+strconv.Itoa(i+1)] = n
	}
	return goops.SetActionResults(res)
}

// jobJSON is one job in list-jobs' JSON form.
type jobJSON struct {
	JobID        string    `json:"job-id"`
	Application  string    `json:"application"`
	Type         string    `json:"job-type"`
	Status       string    `json:"status"`
	Unit         string    `json:"unit,omitempty"`
	Source       string    `json:"source,omitempty"`
	Requested    time.Time `json:"requested,omitzero"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	ArtefactPath string    `json:"artefact-path,omitempty"`
	Message      string    `json:"message,omitempty"`
}

func toJobJSON(r requirer.Row) jobJSON {
	return jobJSON{JobID: r.JobID, Application: r.Application, Type: string(r.Type), Status: string(r.Status),
		Unit: r.Unit, Source: string(r.Source), Requested: r.RequestedAt, Started: r.StartedAt, Finished: r.FinishedAt,
		ArtefactPath: r.ArtefactPath, Message: r.Message}
}

// jobTable formats jobs as a table.
func jobTable(rows []requirer.Row) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job-id\tapplication\ttype\tsource\tstatus\tunit\trequested\tfinished\tmessage")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.JobID, r.Application, r.Type, dash(string(r.Source)), r.Status, dash(r.Unit),
			timeCell(r.RequestedAt), timeCell(r.FinishedAt), dash(clipText(r.Message, 60)))
	}
	tw.Flush()
	if len(rows) == 0 {
		b.WriteString("(no jobs)\n")
	}
	return b.String()
}

// showJob shows one job: its unit, progress and message. For a pending
// job the live report of its unit is read, fresher than the history.
func (w *world) showJob() error {
	var p struct {
		JobID string `json:"job-id"`
	}
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	if w.leader {
		// Fold the latest reports in, so the answer and the history agree.
		if err := w.reconcile(false); err != nil {
			return err
		}
		if err := w.setStatus(); err != nil {
			return err
		}
	}
	r, ok := w.history.Find(p.JobID)
	if !ok {
		return fail("job %q is not in the history (never requested here, or removed by clear-history): run list-jobs", clipText(p.JobID, 60))
	}
	res := map[string]string{
		"job-id": r.JobID, "application": r.Application, "job-type": string(r.Type),
		"status": string(r.Status), "unit": dash(r.Unit), "requested": timeCell(r.RequestedAt),
		"started": timeCell(r.StartedAt), "finished": timeCell(r.FinishedAt),
		"compression": strconv.FormatBool(r.Compression),
	}
	if r.ArtefactPath != "" {
		res["artefact-path"] = r.ArtefactPath
	}
	if r.KeyFingerprint != "" {
		res["key-fingerprint"] = r.KeyFingerprint
	}
	if r.Method != "" {
		res["method"] = string(r.Method)
	}
	if !r.RestoreToTime.IsZero() {
		res["restore-to-time"] = r.RestoreToTime.Format(time.RFC3339Nano)
	}
	msg := r.Message
	if !r.Status.Terminal() {
		if live, unit, ok := w.liveReport(r); ok {
			res["status"], res["unit"] = string(live.Status), unit
			msg = live.Message
		}
		res["progress"] = dash(msg)
		if eta, ok := progressETA(msg, r.StartedAt, w.now); ok {
			res["eta"] = eta.String()
		}
	}
	if msg != "" {
		res["message"] = msg
	}
	return goops.SetActionResults(res)
}

// liveReport finds the freshest report of a pending job among its
// application's units.
func (w *world) liveReport(r requirer.Record) (dbbackup.Job, string, bool) {
	if w.rel.databases[r.Application] == "" || w.loadReports() != nil {
		return dbbackup.Job{}, "", false
	}
	var best dbbackup.Job
	unit, found := "", false
	for _, u := range sortedKeys(w.rel.reports[r.Application]) {
		for _, j := range w.rel.reports[r.Application][u] {
			if j.ID == r.JobID && (!found || j.Status.Terminal() && !best.Status.Terminal()) {
				best, unit, found = j, u, true
			}
		}
	}
	return best, unit, found
}

// clearHistory removes the completed jobs; waiting and running ones stay.
func (w *world) clearHistory() error {
	if !w.leader {
		return fail("this unit is not the leader: run the action on the leader unit (marked * in juju status)")
	}
	if w.historyErr != nil {
		return w.historyErr
	}
	if err := w.merge(); err != nil {
		return err
	}
	h, removed := requirer.ClearHistory(w.history)
	w.history = h
	if err := w.savePeer(); err != nil {
		return err
	}
	if err := w.setStatus(); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"removed": strconv.Itoa(removed), "kept": strconv.Itoa(len(h.Records)),
		"message": fmt.Sprintf("removed %d completed jobs; %d waiting or running jobs kept", removed, len(h.Records)),
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeCell formats a time for a table, "-" when unknown.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// sizeCell formats a backup's stored size with binary units.
func sizeCell(r backup) string {
	if r.Engine == "" && r.Size == 0 {
		return "-"
	}
	return bytesize.IEC(r.Size)
}
