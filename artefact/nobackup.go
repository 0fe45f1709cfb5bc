package artefact

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbbackup/dbbackup/store"
)

// ErrNoBackup is wrapped by the errors about a path that holds no backup at
// all: no manifest, no start marker, no object. A backup that failed or is
// running is not ErrNoBackup but ErrIncomplete.
var ErrNoBackup = errors.New("no backup")

// noBackupError says that prefix holds no backup. It is ErrNoBackup and,
// for the callers that test for a missing object, store.ErrNotFound.
type noBackupError struct{ prefix string }

func (e *noBackupError) Error() string { return "no backup at " + e.prefix }

func (e *noBackupError) Is(target error) bool {
	return target == ErrNoBackup || target == store.ErrNotFound
}

// folderObjects lists the objects directly in the folder prefix (not
// deeper), and reports whether it holds any sub-folder.
func folderObjects(ctx context.Context, st store.Store, prefix string) (objs []store.Object, folders bool, err error) {
	for obj, err := range st.List(ctx, prefix, store.ListOptions{}) {
		if err != nil {
			return nil, false, fmt.Errorf("cannot list %s: %w", prefix, err)
		}
		if obj.IsPrefix {
			folders = true
			continue
		}
		objs = append(objs, obj)
	}
	return objs, folders, nil
}
