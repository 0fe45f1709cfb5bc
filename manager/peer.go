package manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// peerState is the manager's state in its peer application databag,
// beside the history (requirer.HistoryKey): the last bucket check, what
// each schedule last did, the deletion log and retention's last run.
type peerState struct {
	id   string            // the peer relation, "" before it exists
	data map[string]string // the databag as read (and as written since)
	// check is the leader's last check of the bucket.
	check s3Check
	// schedule is what each application's schedule last did.
	schedule requirer.ScheduleStates
	// deletions are the latest backups removed by retention or delete-backup.
	deletions []deletion
	// retentionRun is when retention last ran.
	retentionRun time.Time
	// verifications are the latest checks of backups (verify-backup).
	verifications []verification
	// verifySchedule is what each application's verify-schedule last did.
	verifySchedule requirer.ScheduleStates
}

// loadPeer reads the history and the last bucket check.
func (w *world) loadPeer() error {
	ids, err := goops.GetRelationIDs(peerEndpoint)
	if err != nil {
		return fmt.Errorf("cannot list the peer relation: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	w.peer.id = ids[0]
	if w.peer.data, err = goops.GetAppRelationData(w.peer.id, w.app); err != nil {
		return fmt.Errorf("cannot read the job history: %w", err)
	}
	if w.history, err = requirer.ParseHistory(w.peer.data[requirer.HistoryKey]); err != nil {
		// Never lose the record silently: keep it as it is, write nothing,
		// and say so in the status.
		w.historyErr = fmt.Errorf("cannot read the job history in the peer databag (a newer or damaged record; nothing is written until it reads): %w", err)
		goops.LogErrorf("%s", w.historyErr)
	}
	w.peer.check = parseCheck(w.peer.data[s3CheckKey])
	w.loadSchedule()
	w.loadDeletions()
	w.loadVerifications()
	return nil
}

// savePeer writes the history and the bucket check if they changed.
func (w *world) savePeer() error {
	if w.historyErr != nil {
		return w.historyErr
	}
	if w.peer.id == "" {
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
	want := map[string]string{requirer.HistoryKey: text, s3CheckKey: w.peer.check.text(),
		requirer.ScheduleKey: w.peer.schedule.Marshal(), deletionsKey: deletionsText(w.peer.deletions),
		retentionRunKey: timeText(w.peer.retentionRun), verificationsKey: verificationsText(w.peer.verifications),
		verifyScheduleKey: w.peer.verifySchedule.Marshal()}
	if ch := changedKeys(w.peer.data, want, requirer.HistoryKey, s3CheckKey, requirer.ScheduleKey, deletionsKey, retentionRunKey,
		verificationsKey, verifyScheduleKey); len(ch) > 0 {
		if err := setAppData(w.peer.id, ch); err != nil {
			return err
		}
		for k, v := range ch {
			w.peer.data[k] = v
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

// saveCheckOnly keeps a failed bucket check so the status tells it.
func (w *world) saveCheckOnly() {
	if err := w.savePeer(); err != nil {
		goops.LogWarningf("%s", err)
	}
	_ = w.setStatus()
}
