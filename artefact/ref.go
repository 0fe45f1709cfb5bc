package artefact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrBadRef is wrapped by the errors about a scope, a job id or an
// artefact-path that cannot name a backup.
var ErrBadRef = errors.New("not a backup reference")

// maxPath bounds an artefact-path: an S3 key is at most 1024 bytes.
const maxPath = 1024

// namePattern is what a scope and a job id may be. Job ids never start
// with "_", so the index folder cannot be taken for a backup.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Ref is the reference of one backup, the one place that builds its keys.
// A backup lives in its own folder, "<scope>/<job-id>/", under the storage
// path; Root is that storage path when the reference came from an
// artefact-path (or was put Under one), and empty when it is relative to a
// store rooted at the storage path.
type Ref struct {
	// Root is the storage path in front of the backup's folder, without a
	// leading or trailing "/"; empty for a store rooted at the storage path.
	Root string
	// Scope is the folder of one provider application's backups.
	Scope string
	// JobID is the id of the job that made the backup.
	JobID string
}

// NewRef returns the reference of backup jobID of scope, relative to the
// store, or an error naming the field that cannot name a backup.
func NewRef(scope, jobID string) (Ref, error) {
	r := Ref{Scope: scope, JobID: jobID}
	return r, r.Validate()
}

// ParseRef reads an artefact-path, "<path>/<scope>/<job-id>/" from the
// bucket's root (leading and trailing slashes optional). It refuses a path
// longer than 1024 bytes, an empty, "." or ".." segment, and a path whose
// last two segments are not a scope and a job id; its errors wrap
// ErrBadRef and do not repeat the path (the caller names it).
func ParseRef(artefactPath string) (Ref, error) {
	if len(artefactPath) > maxPath {
		return Ref{}, fmt.Errorf("artefact-path: %d bytes, longer than %d: %w", len(artefactPath), maxPath, ErrBadRef)
	}
	t := strings.Trim(artefactPath, "/")
	if t == "" {
		return Ref{}, fmt.Errorf("artefact-path is empty: %w", ErrBadRef)
	}
	segs := strings.Split(t, "/")
	if slices.ContainsFunc(segs, badSegment) {
		return Ref{}, fmt.Errorf("artefact-path: must not contain empty, '.' or '..' segments: %w", ErrBadRef)
	}
	n := len(segs)
	if n < 2 {
		return Ref{}, fmt.Errorf("artefact-path: must end in <scope>/<job-id>/: %w", ErrBadRef)
	}
	r := Ref{Root: strings.Join(segs[:n-2], "/"), Scope: segs[n-2], JobID: segs[n-1]}
	if err := r.Validate(); err != nil {
		return Ref{}, fmt.Errorf("artefact-path: %w", err)
	}
	return r, nil
}

// RefOf returns the backup whose folder holds key, a key of the store
// rooted at the storage path ("<scope>/<job-id>/<name>"), and false for a
// key outside any backup folder (a scope's index or cards, or something
// else).
func RefOf(key string) (Ref, bool) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 3 || parts[2] == "" {
		return Ref{}, false
	}
	r := Ref{Scope: parts[0], JobID: parts[1]}
	return r, r.Validate() == nil
}

// Validate checks every field of r; its errors name the field and wrap
// ErrBadRef.
func (r Ref) Validate() error {
	if r.Root != "" && slices.ContainsFunc(strings.Split(r.Root, "/"), badSegment) {
		return fmt.Errorf("storage path %q: must not start or end with '/' or hold empty, '.' or '..' segments: %w", clip(r.Root), ErrBadRef)
	}
	if err := CheckScope(r.Scope); err != nil {
		return err
	}
	return CheckJobID(r.JobID)
}

// CheckScope refuses a scope that cannot name a folder of backups; its
// error names the scope and wraps ErrBadRef.
func CheckScope(scope string) error { return checkName("scope", scope) }

// CheckJobID refuses a job id that cannot name a backup; its error names
// the job id and wraps ErrBadRef.
func CheckJobID(id string) error { return checkName("job id", id) }

func checkName(field, v string) error {
	if !namePattern.MatchString(v) {
		return fmt.Errorf("%s %q: must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit: %w", field, clip(v), ErrBadRef)
	}
	return nil
}

// badSegment reports whether seg is empty, "." or "..".
func badSegment(seg string) bool { return seg == "" || seg == "." || seg == ".." }

// clip shortens what an error repeats of an outside input.
func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}

// Under returns r with the storage path storagePath in front of its Root:
// the reference from the bucket's root of a backup stored under that path.
func (r Ref) Under(storagePath string) Ref {
	r.Root = strings.Trim(InBucket(storagePath, r.Root), "/")
	return r
}

// Path returns the key prefix of the backup's objects, ending in "/":
// "<root>/<scope>/<job-id>/". With Root the storage path it is the
// artefact-path reported on the relation, a prefix from the bucket's root
// (so a restore works whatever path its own storage-config names); with
// Root empty it is the backup's folder in a store rooted at the storage
// path.
func (r Ref) Path() string {
	return InBucket(r.Root, ScopeFolder(r.Scope)+r.JobID+"/")
}

// IndexKey returns the key of the backup's entry in its scope's index,
// "<root>/<scope>/_index/<job-id>", from where Path starts.
func (r Ref) IndexKey() string {
	return InBucket(r.Root, indexFolder(r.Scope)+r.JobID)
}

// String returns Path.
func (r Ref) String() string { return r.Path() }

// InBucket returns the key from the bucket's root of key, a key of the
// store rooted at storagePath.
func InBucket(storagePath, key string) string {
	p := strings.Trim(storagePath, "/")
	if p == "" {
		return key
	}
	return p + "/" + key
}

// ScopeFolder returns the folder of scope's backups, "<scope>/", relative
// to the store rooted at the storage path: the prefix to list one scope's
// unfinished uploads with (Uploads).
func ScopeFolder(scope string) string { return scope + "/" }

// indexFolder is the folder of scope's index, "<scope>/_index/".
func indexFolder(scope string) string { return ScopeFolder(scope) + indexDir + "/" }

// Ref returns the reference of the backup m describes, relative to the
// store it was written to.
func (m Manifest) Ref() Ref { return Ref{Scope: m.Scope, JobID: m.JobID} }

// Ref returns the reference of the backup s lists, relative to the store
// it was listed from.
func (s Summary) Ref() Ref { return Ref{Scope: s.Scope, JobID: s.JobID} }
