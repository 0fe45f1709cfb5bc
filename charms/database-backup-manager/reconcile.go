package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// reconcile brings the relation databags in line with the history: it
// folds the provider units' reports into the history, writes each related
// application's pending jobs and saves the history. Only the leader writes;
// other units do nothing here. probe checks the bucket too.
func (w *world) reconcile(probe bool) error {
	if !w.leader || w.historyErr != nil {
		return nil
	}
	if err := w.requestSecrets(); err != nil {
		return err
	}
	if probe {
		w.probe()
	}
	if err := w.merge(); err != nil {
		return err
	}
	w.runSchedule()
	w.runRetention(retentionHooks[w.hook])
	if err := w.writeJobs(); err != nil {
		return err
	}
	return w.savePeer()
}

// requestSecrets writes the v1 requirer fields on the s3 relation, which a
// v0 provider ignores.
func (w *world) requestSecrets() error {
	if w.s3ID == "" {
		return nil
	}
	have, err := goops.GetAppRelationData(w.s3ID, w.app)
	if err != nil {
		return fmt.Errorf("cannot read this application's s3 relation data: %w", err)
	}
	want := map[string]string{requestedSecretsKey: requestedSecrets, "lib-version": "1"}
	if ch := changedKeys(have, want, requestedSecretsKey, "lib-version"); len(ch) > 0 {
		return setAppData(w.s3ID, ch)
	}
	return nil
}

// merge folds every related application's reports into the history; the
// pending jobs of an application no longer related end as lost in time.
func (w *world) merge() error {
	if err := w.loadReports(); err != nil {
		return err
	}
	for _, app := range w.apps() {
		var changes []requirer.Change
		w.history, changes = requirer.Merge(w.history, app, w.reports[app], w.now, w.cfg.jobTimeout())
		for _, c := range changes {
			if c.Kind == requirer.Ignored {
				goops.LogDebugf("%s", scrub(c.String(), w.secrets()))
				continue
			}
			goops.LogInfof("%s", scrub(c.String(), w.secrets()))
			if c.Kind == requirer.Finished {
				if r, ok := w.history.Find(c.JobID); ok && r.Type == dbbackup.Backup && r.Status == dbbackup.Success {
					w.finished[app] = true
				}
			}
		}
	}
	return nil
}

// writeJobs writes each related application's waiting and running jobs
// into the relation's application databag, the credentials as a Juju
// secret (see credsecret.go). Without usable credentials nothing is
// written: the jobs wait.
func (w *world) writeJobs() error {
	if w.s3Problem != "" || len(w.databases) == 0 || w.peerID == "" {
		return nil // no credentials, nobody to ask, or no history yet
	}
	uri, err := w.ensureCredsSecret()
	if err != nil {
		return err
	}
	for _, app := range sortedKeys(w.databases) {
		if err := w.writeJobsOf(app, uri); err != nil {
			return err
		}
	}
	return nil
}

// writeJobsOf writes app's pending jobs if they changed, the credentials
// as the secret uri, which it grants to the relation.
func (w *world) writeJobsOf(app, uri string) error {
	id := w.databases[app]
	jobs, err := requirer.RelationJobs(w.history, app, w.wireStorage(uri), w.cfg.maxPending())
	if err != nil {
		return fmt.Errorf("cannot write the jobs of %s: %w", app, err)
	}
	have, err := goops.GetAppRelationData(id, w.app)
	if err != nil {
		return fmt.Errorf("cannot read the jobs requested from %s: %w", app, err)
	}
	bag := dbbackup.Databag{dbbackup.JobsKey: have[dbbackup.JobsKey]}
	changed, err := bag.SetJobs(jobs, dbbackup.Requirer)
	if err != nil {
		return fmt.Errorf("cannot write the jobs of %s: %s", app, scrub(err.Error(), w.secrets()))
	}
	if !changed {
		return nil
	}
	if len(jobs) > 0 {
		if err := grantCredsSecret(uri, id); err != nil {
			return err
		}
	}
	return setAppData(id, map[string]string{dbbackup.JobsKey: bag[dbbackup.JobsKey]})
}

// savePeer writes the history and the bucket check if they changed.
func (w *world) savePeer() error {
	if w.historyErr != nil {
		return w.historyErr
	}
	if w.peerID == "" {
		if len(w.history.Records) > 0 {
			return errors.New("cannot keep the job history: the peer relation does not exist yet")
		}
		return nil
	}
	text, err := w.history.Marshal()
	if err != nil {
		return err
	}
	if len(w.history.Records) == 0 && len(w.history.Dropped) == 0 {
		text = ""
	}
	want := map[string]string{requirer.HistoryKey: text, s3CheckKey: w.check.text(),
		requirer.ScheduleKey: w.schedState.Marshal(), deletionsKey: deletionsText(w.deletions),
		retentionRunKey: timeText(w.retentionRun)}
	if ch := changedKeys(w.peer, want, requirer.HistoryKey, s3CheckKey, requirer.ScheduleKey, deletionsKey, retentionRunKey); len(ch) > 0 {
		if err := setAppData(w.peerID, ch); err != nil {
			return err
		}
		for k, v := range ch {
			w.peer[k] = v
		}
	}
	return nil
}

// s3Check is the outcome of the leader's last check of the bucket, kept in
// the peer databag so every unit's status tells it. It holds no credential.
type s3Check struct {
	OK bool `json:"ok"`
	// Short is what the status shows: the store's hint, or the message.
	Short   string `json:"short,omitempty"`
	Message string `json:"message,omitempty"`
	At      string `json:"at,omitempty"`
}

func parseCheck(s string) s3Check {
	c := s3Check{OK: true}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &c)
	}
	return c
}

func (c s3Check) text() string {
	if c.OK && c.Message == "" {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// probeTimeout bounds a check of the bucket.
const probeTimeout = 10 * time.Second

// probe lists one key of the bucket with the credentials and records the
// outcome; it returns the error for an action to show.
func (w *world) probe() error {
	if w.s3Problem != "" {
		w.check = s3Check{OK: true}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	err := checkBucket(ctx, w.storage)
	if err == nil {
		w.check = s3Check{OK: true}
		return nil
	}
	msg := scrub(err.Error(), w.secrets())
	short := msg
	var se *store.Error
	if errors.As(err, &se) && se.Hint != "" {
		short = fmt.Sprintf("%s at %s: %s", se.Bucket, se.Endpoint, se.Hint)
	}
	w.check = s3Check{OK: false, Short: short, Message: msg, At: w.now.Format(time.RFC3339)}
	goops.LogWarningf("the bucket does not answer: %s", msg)
	return errors.New(msg)
}

// checkBucket lists at most one key of the storage's bucket.
func checkBucket(ctx context.Context, cfg dbbackup.StorageConfig) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	for _, err := range st.List(ctx, "", store.ListOptions{}) {
		if err != nil {
			return fmt.Errorf("cannot list bucket %s: %w", cfg.Bucket, err)
		}
		break
	}
	return nil
}

// openStore opens the bucket for the manager's short reads: two tries,
// as an action or a hook must answer in seconds.
func openStore(cfg dbbackup.StorageConfig) (*s3.Store, error) {
	st, err := s3.New(cfg, s3.Options{Backoff: store.Backoff{Attempts: 2, Initial: 200 * time.Millisecond, Max: time.Second}})
	if err != nil {
		return nil, fmt.Errorf("cannot use the s3 configuration: %w", err)
	}
	return st, nil
}
