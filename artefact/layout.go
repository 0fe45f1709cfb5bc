package artefact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"

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

// writeIndex stores the copy of m, the manifest of the backup ref, in its
// scope's index.
func writeIndex(ctx context.Context, st store.Store, ref Ref, m Manifest) (store.Object, error) {
	b, err := m.Marshal()
	if err != nil {
		return store.Object{}, err
	}
	obj, err := st.Put(ctx, ref.IndexKey(), bytes.NewReader(b), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		return obj, fmt.Errorf("cannot index backup %s: %w", m.JobID, err)
	}
	return obj, nil
}

// Delete removes exactly one backup: the objects directly in the folder
// prefix (<...>/<scope>/<job-id>/, from wherever the store is rooted) and
// its scope's index entry and card. The folder must hold its own start
// marker or manifest and no sub-folder: a folder holding other backups (a
// scope, a storage path) is refused, and one without a backup returns an
// error wrapping ErrNoBackup. The card goes first, then the index entry,
// then the manifest, then the data and log, then the start marker, so that
// a deletion cut short leaves an incomplete backup, never a complete one
// with missing parts, and a second Delete finishes it.
func Delete(ctx context.Context, st store.Store, prefix string) error {
	ref, err := ParseRef(prefix)
	if err != nil || ref.Path() != prefix {
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
	if err := deleteCards(ctx, st, ref); err != nil {
		return err
	}
	if err := st.Delete(ctx, ref.IndexKey()); err != nil {
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
