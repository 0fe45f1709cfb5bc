package requirer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// historyVersion is the version of the history's JSON layout.
const historyVersion = 1

// historyJSON is the stored layout of a History.
type historyJSON struct {
	Version int          `json:"version"`
	Records []recordJSON `json:"records"`
	Dropped []Dropped    `json:"dropped,omitempty"`
}

// recordJSON is the stored layout of a Record: times as RFC 3339 UTC
// strings, empty when unset.
type recordJSON struct {
	JobID        string  `json:"job-id"`
	Application  string  `json:"application"`
	Type         string  `json:"job-type"`
	Compression  bool    `json:"compression,omitempty"`
	Source       string  `json:"source"`
	Storage      Storage `json:"storage"`
	RequestedAt  string  `json:"requested-at"`
	StartedAt    string  `json:"started-at,omitempty"`
	SeenAt       string  `json:"seen-at,omitempty"`
	FinishedAt   string  `json:"finished-at,omitempty"`
	Unit         string  `json:"unit,omitempty"`
	Status       string  `json:"status"`
	Message      string  `json:"message,omitempty"`
	ArtefactPath string  `json:"artefact-path,omitempty"`
	// KeyFingerprint is absent in histories written before encryption.
	KeyFingerprint string `json:"key-fingerprint,omitempty"`
	// Method and RestoreToTime are absent in histories written before
	// point-in-time recovery, and for a logical backup or a plain restore.
	Method        string `json:"method,omitempty"`
	RestoreToTime string `json:"restore-to-time,omitempty"`
}

// Marshal returns h as the JSON value stored under HistoryKey. The same
// history gives the same bytes. It refuses a history ParseHistory would
// refuse, so what is written can always be read back.
func (h History) Marshal() (string, error) {
	if err := h.Check(); err != nil {
		return "", fmt.Errorf("cannot write job history: %w", err)
	}
	out := historyJSON{Version: historyVersion, Records: make([]recordJSON, len(h.Records)), Dropped: slices.Clone(h.Dropped)}
	for i := range out.Dropped {
		out.Dropped[i].FinishedThrough = stamp(out.Dropped[i].FinishedThrough)
	}
	for i, r := range h.Records {
		out.Records[i] = recordJSON{
			JobID: r.JobID, Application: r.Application, Type: string(r.Type),
			Compression: r.Compression, Source: string(r.Source), Storage: r.Storage,
			RequestedAt: timeText(r.RequestedAt), StartedAt: timeText(r.StartedAt),
			SeenAt: timeText(r.SeenAt), FinishedAt: timeText(r.FinishedAt),
			Unit: r.Unit, Status: string(r.Status), Message: r.Message, ArtefactPath: r.ArtefactPath,
			KeyFingerprint: r.KeyFingerprint, Method: string(r.Method),
			RestoreToTime: restoreTimeText(r.RestoreToTime),
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return "", fmt.Errorf("cannot write job history: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Check returns every problem of h (field paths as in its JSON layout), or nil.
func (h History) Check() error {
	var c problems
	for i, r := range h.Records {
		path := fmt.Sprintf("records[%d]", i)
		checkRecord(r, path, &c)
		for _, t := range []time.Time{r.RequestedAt, r.StartedAt, r.SeenAt, r.FinishedAt} {
			if !t.IsZero() && !t.Equal(stamp(t)) {
				c.add(path, "times must be whole seconds")
				break
			}
		}
		if i > 0 && h.Records[i-1].JobID >= r.JobID {
			c.add(path+".job-id", "must sort after the previous record's (no duplicates)")
		}
	}
	for i, d := range h.Dropped {
		path := fmt.Sprintf("dropped[%d]", i)
		if d.Application == "" {
			c.add(path+".application", "required")
		}
		if i > 0 && h.Dropped[i-1].Application >= d.Application {
			c.add(path+".application", "must sort after the previous summary's (no duplicates)")
		}
		if d.Success < 0 || d.Error < 0 || d.Lost < 0 {
			c.add(path, "counts must not be negative")
		}
		if t := d.FinishedThrough; !t.IsZero() && !t.Equal(stamp(t)) {
			c.add(path+".finished-through", "must be whole seconds")
		}
	}
	return c.list.Err()
}

// ParseHistory reads a history written by Marshal. Empty text is an empty
// history. Unknown fields are ignored (a newer manager's additions), records
// are sorted by job id, and every problem is returned at once as
// dbbackup.Problems.
func ParseHistory(text string) (History, error) {
	var h History
	if strings.TrimSpace(text) == "" {
		return h, nil
	}
	var in historyJSON
	if err := json.Unmarshal([]byte(text), &in); err != nil {
		return h, fmt.Errorf("cannot read job history: invalid JSON: %w", err)
	}
	if in.Version != historyVersion {
		return h, fmt.Errorf("cannot read job history: version %d, this manager reads version %d", in.Version, historyVersion)
	}
	var c problems
	h.Records = make([]Record, len(in.Records))
	for i, rj := range in.Records {
		path := fmt.Sprintf("records[%d]", i)
		h.Records[i] = Record{
			JobID: rj.JobID, Application: rj.Application, Type: dbbackup.JobType(rj.Type),
			Compression: rj.Compression, Source: Source(rj.Source), Storage: rj.Storage,
			RequestedAt: parseTime(rj.RequestedAt, path+".requested-at", &c),
			StartedAt:   parseTime(rj.StartedAt, path+".started-at", &c),
			SeenAt:      parseTime(rj.SeenAt, path+".seen-at", &c),
			FinishedAt:  parseTime(rj.FinishedAt, path+".finished-at", &c),
			Unit:        rj.Unit, Status: dbbackup.Status(rj.Status), Message: rj.Message, ArtefactPath: rj.ArtefactPath,
			KeyFingerprint: rj.KeyFingerprint, Method: dbbackup.Method(rj.Method),
			RestoreToTime: parseRestoreTime(rj.RestoreToTime, path+".restore-to-time", &c),
		}
	}
	slices.SortStableFunc(h.Records, func(a, b Record) int { return strings.Compare(a.JobID, b.JobID) })
	h.Dropped = in.Dropped
	for i := range h.Dropped {
		h.Dropped[i].FinishedThrough = stamp(h.Dropped[i].FinishedThrough)
	}
	slices.SortStableFunc(h.Dropped, func(a, b Dropped) int { return strings.Compare(a.Application, b.Application) })
	if len(c.list) > 0 {
		return History{}, fmt.Errorf("cannot read job history: %w", c.list)
	}
	if err := h.Check(); err != nil {
		return History{}, fmt.Errorf("cannot read job history: %w", err)
	}
	return h, nil
}

// restoreTimeText formats a restore's target: RFC 3339 in UTC, to the
// nanosecond it was asked for; zero is empty.
func restoreTimeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// timeText formats t for the stored layout; zero is empty.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// parseRestoreTime reads a stored restore target; empty is zero.
func parseRestoreTime(s, path string, c *problems) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := dbbackup.ParseRestoreTime(path, s)
	if err != nil {
		c.add(path, "%v", strings.TrimPrefix(err.Error(), path+" "))
	}
	return t
}

// parseTime reads a stored time; empty is zero.
func parseTime(s, path string, c *problems) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		c.add(path, "must be an RFC 3339 time, got %q", clipID(s))
		return time.Time{}
	}
	return stamp(t)
}
