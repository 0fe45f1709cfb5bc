package artefact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/store"
)

// MaxBackupLog bounds the job log of a backup as stored: the head and the
// tail the backup keeps (see Backup), with room for the elision note.
const MaxBackupLog = 4<<20 + 4096

// ReadBackupLog writes the job log (LogName) of the backup at prefix to w.
// A complete backup's log is checked against its manifest as it is read
// (and decrypted with key); a backup without a manifest (failed, or still
// running) keeps its log as written, read as is (decrypted with key when
// the backup was encrypted): nothing vouches for it then, and complete
// says so. More than MaxBackupLog bytes is refused.
func ReadBackupLog(ctx context.Context, st store.Store, prefix string, key []byte, w io.Writer) (complete bool, err error) {
	m, err := Open(ctx, st, prefix, key)
	switch {
	case errors.Is(err, ErrIncomplete):
		rc, err := st.Get(ctx, prefix+LogName)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return false, fmt.Errorf("backup %s has no log (yet): %w", prefix, err)
			}
			return false, fmt.Errorf("cannot read the log of %s: %w", prefix, err)
		}
		defer rc.Close()
		// A failed encrypted backup's log is framed and encrypted like a
		// complete one's; its salt is in its header, since no manifest
		// records it.
		br := bufio.NewReader(rc)
		if head, _ := br.Peek(len(magic)); string(head) == magic {
			fr, err := newFrameReader(br, key, nil)
			if err != nil {
				return false, fmt.Errorf("the log of %s: %w", prefix, err)
			}
			return false, copyBounded(w, fr, prefix)
		}
		return false, copyBounded(w, br, prefix)
	case err != nil:
		return false, err
	}
	if m.Log.RawBytes > MaxBackupLog {
		return true, fmt.Errorf("the log of %s holds %d bytes, more than %d: %w", prefix, m.Log.RawBytes, MaxBackupLog, ErrCorrupt)
	}
	r, err := openPart(ctx, st, prefix, m, m.Log, key)
	if err != nil {
		return true, err
	}
	defer r.Close()
	return true, copyBounded(w, r, prefix)
}

// copyBounded copies at most MaxBackupLog bytes of a log.
func copyBounded(w io.Writer, r io.Reader, prefix string) error {
	n, err := io.Copy(w, io.LimitReader(r, MaxBackupLog+1))
	if err != nil {
		return fmt.Errorf("cannot read the log of %s: %w", prefix, err)
	}
	if n > MaxBackupLog {
		return fmt.Errorf("the log of %s is larger than %d bytes: %w", prefix, MaxBackupLog, ErrCorrupt)
	}
	return nil
}
