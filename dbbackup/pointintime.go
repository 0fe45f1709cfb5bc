package dbbackup

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"
)

// The fields of the point-in-time extensions (interface/v0/README.md), at
// a job's root. A requirer writes them only for a provider that advertises
// the capability: PointInTime for restore-to-time, Physical for
// method=physical. A seed-only provider would ignore an unknown
// restore-to-time and restore the wrong moment.
const (
	// RestoreToTimeField, in a restore: the moment to restore to, as an
	// RFC 3339 time. artefact-path names the base backup to start from
	// (the requirer picks it); the provider replays the archived logs
	// from there up to the time.
	RestoreToTimeField = "restore-to-time"
	// MethodField, in a backup: "logical" (a dump, the seed's backup and
	// the default when absent) or "physical" (a base backup of the
	// server's files, the start of point-in-time recovery).
	MethodField = "method"
)

// Method is a backup's method field.
type Method string

// The backup methods.
const (
	MethodLogical  Method = "logical"
	MethodPhysical Method = "physical"
)

// Bounds of restore-to-time: binary log times are 32-bit seconds, and no
// backup is older than the Unix epoch's first year.
const (
	minRestoreYear = 1971
	maxRestoreYear = 2105
	maxTimeText    = 64
)

// ParseRestoreTime reads an RFC 3339 time a restore is to reach (the
// restore-to-time field, or an action's parameter of that name), in UTC.
// The error names field.
func ParseRestoreTime(field, text string) (time.Time, error) {
	if len(text) > maxTimeText {
		return time.Time{}, fmt.Errorf("%s is %d bytes, more than %d: not an RFC 3339 time", field, len(text), maxTimeText)
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-12-04T21:30:00Z", field, text)
	}
	if y := t.UTC().Year(); y < minRestoreYear || y > maxRestoreYear {
		return time.Time{}, fmt.Errorf("%s %q is outside %d-%d", field, text, minRestoreYear, maxRestoreYear)
	}
	return t.UTC(), nil
}

// RestoreToTime returns a job's restore-to-time: zero when absent. A
// value that is not a string holding an RFC 3339 time, or one on a job
// other than a restore, is an error naming the field.
func (j Job) RestoreToTime() (time.Time, error) {
	raw, ok := j.Extra[RestoreToTimeField]
	if !ok {
		return time.Time{}, nil
	}
	if j.Type != Restore {
		return time.Time{}, fmt.Errorf("%s is only for restore jobs, and this is a %s", RestoreToTimeField, j.Type)
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return time.Time{}, fmt.Errorf("%s must be a string holding an RFC 3339 time", RestoreToTimeField)
	}
	return ParseRestoreTime(RestoreToTimeField, text)
}

// WithRestoreToTime returns j with restore-to-time set to t (RFC 3339 in
// UTC, to the nanosecond when t has a fraction), or removed when t is
// zero. j's Extra is not modified.
func (j Job) WithRestoreToTime(t time.Time) Job {
	if t.IsZero() {
		return j.without(RestoreToTimeField)
	}
	return j.with(RestoreToTimeField, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
}

// BackupMethod returns a backup's method: MethodLogical when absent. A
// value other than "logical" or "physical", or a method on a job other
// than a backup, is an error naming the field.
func (j Job) BackupMethod() (Method, error) {
	raw, ok := j.Extra[MethodField]
	if !ok {
		return MethodLogical, nil
	}
	if j.Type != Backup {
		return "", fmt.Errorf("%s is only for backup jobs, and this is a %s", MethodField, j.Type)
	}
	var m string
	if err := json.Unmarshal(raw, &m); err != nil || (Method(m) != MethodLogical && Method(m) != MethodPhysical) {
		return "", fmt.Errorf("%s must be %q or %q, got %.40s", MethodField, MethodLogical, MethodPhysical, raw)
	}
	return Method(m), nil
}

// WithMethod returns j with method set to m; MethodLogical and "" remove
// the field, so that a logical backup is exactly the seed's. j's Extra is
// not modified.
func (j Job) WithMethod(m Method) Job {
	if m == "" || m == MethodLogical {
		return j.without(MethodField)
	}
	return j.with(MethodField, strconv.Quote(string(m)))
}

func (j Job) with(field, value string) Job {
	extra := maps.Clone(j.Extra)
	if extra == nil {
		extra = map[string]json.RawMessage{}
	}
	extra[field] = json.RawMessage(value)
	j.Extra = extra
	return j
}

func (j Job) without(field string) Job {
	if _, ok := j.Extra[field]; !ok {
		return j
	}
	extra := maps.Clone(j.Extra)
	delete(extra, field)
	j.Extra = extra
	return j
}
