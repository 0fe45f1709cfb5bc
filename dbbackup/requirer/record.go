package requirer

import (
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// validStatus reports whether s may be stored in a history: waiting,
// running, success, error or lost (see dbbackup.Status).
func validStatus(s dbbackup.Status) bool {
	switch s {
	case dbbackup.Waiting, dbbackup.Running, dbbackup.Success, dbbackup.Error, dbbackup.Lost:
		return true
	}
	return false
}

// Source says what asked for a job.
type Source string

// The sources of a job.
const (
	// FromAction is a job requested by an admin through an action.
	FromAction Source = "action"
	// FromSchedule is a job requested by the manager's schedule.
	FromSchedule Source = "schedule"
)

// Storage is where a job's artefacts go or come from: the storage
// configuration without its credentials. It has no field for a key, so a
// history can never hold one; attributes, CA chains and unknown fields are
// left out too, as they may carry secrets (an SSE-C key header) or are large.
type Storage struct {
	// Bucket is the bucket name.
	Bucket string `json:"bucket,omitempty"`
	// Path is the key prefix inside the bucket.
	Path string `json:"path,omitempty"`
	// Endpoint is the S3 endpoint URL; empty means AWS.
	Endpoint string `json:"endpoint,omitempty"`
	// Region is the S3 region.
	Region string `json:"region,omitempty"`
	// URIStyle is "path", "host" or empty.
	URIStyle string `json:"s3-uri-style,omitempty"`
	// StorageClass is the storage class of uploaded objects.
	StorageClass string `json:"storage-class,omitempty"`
	// APIVersion is the S3 signature version, 2 or 4; 0 means unset.
	APIVersion int `json:"s3-api-version,omitempty"`
}

// StorageOf returns the parts of c that a history may keep.
func StorageOf(c dbbackup.StorageConfig) Storage {
	return Storage{
		Bucket: c.Bucket, Path: c.Path, Endpoint: c.Endpoint, Region: c.Region,
		URIStyle: c.URIStyle, StorageClass: c.StorageClass, APIVersion: c.APIVersion,
	}
}

// Record is the manager's record of one job. Times are UTC, to the second,
// as observed by the manager (the now of the hook that saw the change);
// zero means not yet.
type Record struct {
	// JobID is the job-id, unique in the history.
	JobID string
	// Application is the related database application the job is for.
	Application string
	// Type is backup or restore.
	Type dbbackup.JobType
	// Compression is the job-config's compression.
	Compression bool
	// Source says what requested the job.
	Source Source
	// Storage is where the artefacts go (backup) or come from (restore).
	Storage Storage
	// RequestedAt is when the job was requested.
	RequestedAt time.Time
	// StartedAt is when a unit was first seen running it.
	StartedAt time.Time
	// SeenAt is when a unit last reported it; it starts the lost timeout.
	SeenAt time.Time
	// FinishedAt is when it was first seen terminal.
	FinishedAt time.Time
	// Unit is the unit that reported it running or terminal.
	Unit string
	// Status is waiting, running, success, error or lost.
	Status dbbackup.Status
	// Message is the unit's message, or the manager's for a lost job.
	Message string
	// ArtefactPath is the backup to restore (a restore, set when requested)
	// or where a backup's artefacts were stored (as reported).
	ArtefactPath string
	// Method is a backup's method: "" (a logical dump, the seed's) or
	// dbbackup.MethodPhysical; written as the job's method field.
	Method dbbackup.Method
	// RestoreToTime is the moment a restore is to reach (zero: the
	// backup's own); written as the job's restore-to-time field, with
	// ArtefactPath naming the base backup.
	RestoreToTime time.Time
	// KeyFingerprint names the encryption key a backup was asked to use
	// (artefact.Fingerprint: 16 hex digits, never the key); empty for a
	// backup without encryption and for a restore.
	KeyFingerprint string
}

// MaxMessage is the most bytes of a reported message a record keeps.
const MaxMessage = 2048

// clip makes s valid UTF-8 (as it will read back from JSON) and cuts it to
// MaxMessage bytes on a rune boundary, marking the cut.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxMessage {
		return s
	}
	const mark = " ...(truncated)"
	cut := MaxMessage - len(mark)
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// runeStart reports whether b starts a UTF-8 encoded rune.
func runeStart(b byte) bool { return b&0xC0 != 0x80 }

// stamp normalises an observation time: UTC, whole seconds, no monotonic
// reading, so a history written and read back is equal.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}
