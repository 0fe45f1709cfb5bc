package artefact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/dbbackup/dbbackup/store"
)

// The objects of one backup, under <path>/<scope>/<job-id>/ in the bucket:
// the data part(s), the job log and the manifest, written last.
const (
	ManifestName = "manifest.json"
	LogName      = "backup.log"
	// StartedName marks a backup folder as soon as the backup starts.
	StartedName = "started.json"
)

var scopePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Prefix returns the store key prefix of a backup, "<scope>/<job-id>/",
// relative to the store (whose own path the store prepends).
func Prefix(scope, jobID string) (string, error) {
	if !scopePattern.MatchString(scope) {
		return "", fmt.Errorf("scope %q: must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", scope)
	}
	if !scopePattern.MatchString(jobID) {
		return "", fmt.Errorf("job id %q: must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", jobID)
	}
	return scope + "/" + jobID + "/", nil
}

// PathOf returns the artefact-path reported for a backup: its key
// prefix inside the bucket, the storage path included, ending in "/". A
// restore opens it from the bucket's root, so it works whatever path the
// restore's own storage-config names.
func PathOf(storagePath, prefix string) string {
	p := strings.Trim(storagePath, "/")
	if p == "" {
		return prefix
	}
	return p + "/" + prefix
}

// CleanPath turns an artefact-path into a key prefix from the
// bucket's root, ending in "/": leading slashes go, ".." is refused.
func CleanPath(p string) (string, error) {
	t := strings.Trim(p, "/")
	if t == "" {
		return "", fmt.Errorf("artefact-path is empty")
	}
	for _, seg := range strings.Split(t, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return "", fmt.Errorf("artefact-path: must not contain empty, '.' or '..' segments")
		}
	}
	return path.Clean(t) + "/", nil
}

// indexKey is the key of a backup's entry in its scope's index.
func indexKey(scopeDir, jobID string) string {
	return scopeDir + "/" + IndexDir + "/" + jobID
}

// writeIndex stores the copy of m in its scope's index.
func writeIndex(ctx context.Context, st store.Store, scopeDir string, m Manifest) (store.Object, error) {
	b, err := m.Marshal()
	if err != nil {
		return store.Object{}, err
	}
	obj, err := st.Put(ctx, indexKey(scopeDir, m.JobID), bytes.NewReader(b), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		return obj, fmt.Errorf("cannot index backup %s: %w", m.JobID, err)
	}
	return obj, nil
}

// Delete removes exactly one backup: the objects directly in the folder
// prefix (<...>/<scope>/<job-id>/, from wherever the store is rooted) and
// its scope's index entry. The folder must hold its own start marker or
// manifest and no sub-folder: a folder holding other backups (a scope, a
// storage path) is refused, and one without a backup returns an error
// wrapping ErrNoBackup. The index entry goes first, then the manifest, then
// the data and log, then the start marker, so that a deletion cut short
// leaves an incomplete backup, never a complete one with missing parts, and
// a second Delete finishes it.
func Delete(ctx context.Context, st store.Store, prefix string) error {
	dir := strings.TrimSuffix(prefix, "/")
	segs := strings.Split(dir, "/")
	if prefix == "" || !strings.HasSuffix(prefix, "/") || len(segs) < 2 ||
		!scopePattern.MatchString(segs[len(segs)-1]) || !scopePattern.MatchString(segs[len(segs)-2]) {
		return fmt.Errorf("cannot delete %q: not a backup folder (<scope>/<job-id>/)", prefix)
	}
	objs, folders, err := folderObjects(ctx, st, prefix)
	if err != nil {
		return fmt.Errorf("cannot delete backup %s: %w", prefix, err)
	}
	if folders {
		return fmt.Errorf("%s is not one backup: it holds folders", prefix)
	}
	var manifest, started *store.Object
	var rest []store.Object
	for _, obj := range objs {
		switch path.Base(obj.Key) {
		case ManifestName:
			manifest = &obj
		case StartedName:
			started = &obj
		default:
			rest = append(rest, obj)
		}
	}
	if manifest == nil && started == nil {
		return &noBackupError{prefix: prefix}
	}
	if err := st.Delete(ctx, indexKey(path.Dir(dir), path.Base(dir))); err != nil {
		return fmt.Errorf("cannot delete the index entry of %s: %w", prefix, err)
	}
	if manifest != nil {
		if err := st.Delete(ctx, manifest.Key); err != nil {
			return fmt.Errorf("cannot delete the manifest of %s: %w", prefix, err)
		}
	}
	// What the backup was still writing goes too: a killed backup's
	// multipart upload would otherwise hold its parts forever.
	if _, err := abortFolderUploads(ctx, st, prefix); err != nil && !errors.Is(err, ErrUploadsUnsupported) {
		return fmt.Errorf("cannot delete backup %s: %w", prefix, err)
	}
	if started != nil {
		rest = append(rest, *started)
	}
	for _, obj := range rest {
		if err := st.Delete(ctx, obj.Key); err != nil {
			return fmt.Errorf("cannot delete backup %s: %w", prefix, err)
		}
	}
	return nil
}
