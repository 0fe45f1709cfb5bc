package pitr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/dbbackup/dbbackup/store"
)

// walFileName is a name PostgreSQL's restore_command is asked for: a WAL
// segment or a timeline history file.
var walFileName = regexp.MustCompile(`^([0-9A-F]{24}|[0-9A-F]{8}\.history)$`)

// CheckWALFileName refuses a name that is not a WAL segment's or a
// timeline history file's.
func CheckWALFileName(name string) error {
	if !walFileName.MatchString(name) {
		return fmt.Errorf("NAME %q is not a WAL segment or timeline history file name", name)
	}
	return nil
}

// FetchWAL is a restore_command's work: it writes the archived WAL file
// name, verified, to dest (PostgreSQL's %p). A segment archived only in
// part (the archiver's last upload) is given when the whole one is not
// there, and partial says so. dest appears only once the whole file was
// verified: it is written beside it under a temporary name first. An
// error wrapping store.ErrNotFound means the archive does not hold the
// file (PostgreSQL takes it for the end of the archive); any other means
// it holds it and it could not be fetched or verified.
func FetchWAL(ctx context.Context, w WALArchive, name, dest string) (partial bool, err error) {
	if err := CheckWALFileName(name); err != nil {
		return false, err
	}
	tmp := filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".dbbackup-tmp")
	fetch := func(partial bool) error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", tmp, err)
		}
		err = w.Get(ctx, name, partial, f)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cannot write %s: %w", tmp, cerr)
		}
		return err
	}
	err = fetch(false)
	if errors.Is(err, store.ErrNotFound) && len(name) == 24 {
		partial = true
		err = fetch(true)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return partial, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Remove(tmp)
		return partial, fmt.Errorf("cannot write %s: %w", dest, err)
	}
	return partial, nil
}
