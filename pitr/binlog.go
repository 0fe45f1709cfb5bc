package pitr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/store"
)

// maxBinlogFiles bounds the files one restore fetches and one window
// follows.
const maxBinlogFiles = 100000

// maxRelists bounds how often Fetch lists the archive again for a file
// being written whose objects changed while it was read.
const maxRelists = 3

// Fetch downloads the scope's binary logs from the base's position on
// into dir, each verified by its pieces' checksums and their contiguity
// and checked by the chain checker as it arrives, until one reaches stop.
// It refuses a file missing from the sequence, a damaged one (a piece
// missing, overlapping, damaged or moved from another file or offset),
// and an archive that does not reach stop: nothing has reached a
// database then.
func (b BinlogArchive) Fetch(ctx context.Context, base engine.BinlogPosition, stop time.Time, dir string) (mysql.BinlogChain, error) {
	scope := b.a.Scope
	archived, err := b.Files(ctx)
	if err != nil {
		return mysql.BinlogChain{}, err
	}
	check := mysql.NewChainChecker(base, stop)
	var lastStored time.Time
	for range maxBinlogFiles {
		name := check.Next()
		f, ok := archived[name]
		if name == "" || !ok {
			break
		}
		path := filepath.Join(dir, name)
		reach, err := b.download(ctx, f, path)
		for try := 0; err != nil && errors.Is(err, store.ErrNotFound) && !f.Complete && try < maxRelists; try++ {
			// The archiver replaced a tail, or completed the file, while
			// it was read: what it stored instead is in a new listing.
			if archived, err = b.Files(ctx); err != nil {
				return mysql.BinlogChain{}, err
			}
			if f, ok = archived[name]; !ok {
				break
			}
			reach, err = b.download(ctx, f, path)
		}
		if err != nil {
			return mysql.BinlogChain{}, err
		}
		lastStored = reach
		done, err := check.Add(path)
		if err != nil {
			return mysql.BinlogChain{}, fmt.Errorf("binary log %s of scope %s: %w", name, scope, err)
		}
		if done {
			return check.Chain(), nil
		}
		if !f.Complete {
			break
		}
	}
	c := check.Chain()
	at := stop.Add(-time.Second).UTC().Format(time.RFC3339)
	switch {
	case len(c.Paths) == 0:
		return c, fmt.Errorf("cannot restore to %s: binary log %s, where the backup stands, is not in the archive of scope %s", at, base.File, scope)
	case !c.Complete && !lastStored.IsZero() && !lastStored.Before(stop):
		// The tail was stored after the stop time: the file holds every
		// event before it.
		return c, nil
	case c.Complete:
		return c, fmt.Errorf("cannot restore to %s: binary log %s is missing from the archive of scope %s (the sequence continues there after %s)", at, check.Next(), scope, filepath.Base(c.Paths[len(c.Paths)-1]))
	default:
		return c, fmt.Errorf("cannot restore to %s: the archive of scope %s reaches only %s (binary log %s, stored %s); is the archiver running?", at, scope, c.Last.UTC().Format(time.RFC3339), filepath.Base(c.Paths[len(c.Paths)-1]), lastStored.UTC().Format(time.RFC3339))
	}
}

// download writes one archived file to path, removed again when it fails
// its checks, and returns when its tail was stored (a file being written)
// or its last piece (a complete one).
func (b BinlogArchive) download(ctx context.Context, f BinlogFile, path string) (time.Time, error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return time.Time{}, err
	}
	reach, _, err := b.get(ctx, f, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return time.Time{}, err
	}
	return reach, nil
}

// Get writes the file name as the archive holds it to w, every piece
// verified and each following the last without a gap or an overlap, and
// returns the file as listed and its size. Bytes written before an error
// are not to be trusted.
func (b BinlogArchive) Get(ctx context.Context, name string, w io.Writer) (BinlogFile, int64, error) {
	files, err := b.Files(ctx)
	if err != nil {
		return BinlogFile{}, 0, err
	}
	f, ok := files[name]
	if !ok {
		return BinlogFile{}, 0, fmt.Errorf("binary log %s of scope %s is not in the archive: %w", name, b.a.Scope, store.ErrNotFound)
	}
	_, n, err := b.get(ctx, f, w)
	return f, n, err
}

// get writes f's objects to w in order and returns the time its reach
// is judged by (see download) and the bytes written.
func (b BinlogArchive) get(ctx context.Context, f BinlogFile, w io.Writer) (time.Time, int64, error) {
	fail := func(err error) (time.Time, int64, error) {
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, 0, fmt.Errorf("binary log %s of scope %s is missing from the archive: %w", f.Name, b.a.Scope, err)
		}
		return time.Time{}, 0, fmt.Errorf("binary log %s of scope %s: %w", f.Name, b.a.Scope, err)
	}
	if f.Problem != "" {
		return fail(fmt.Errorf("%s: %w", f.Problem, artefact.ErrCorrupt))
	}
	var n int64
	var reach time.Time
	tailRead := false
	for _, o := range f.Objects {
		switch {
		case o.Offset > n:
			return fail(fmt.Errorf("the piece from %d to %d is missing (the next stored starts at %d): %w", n, o.Offset, o.Offset, artefact.ErrCorrupt))
		case o.Offset < n:
			return fail(fmt.Errorf("the piece at %d overlaps the one before it, which ends at %d: %w", o.Offset, n, artefact.ErrCorrupt))
		}
		got, err := b.a.get(ctx, artefact.LogStreamBinlog, o.Log.Name, o.Log.Partial, w)
		if err != nil {
			return fail(err)
		}
		n += got.Size
		reach = got.Created
		tailRead = tailRead || (f.Tail != nil && o.Log.Key == f.Tail.Log.Key)
	}
	if f.Complete {
		return reach, n, nil
	}
	switch {
	case f.Tail == nil:
		reach = time.Time{} // when its bytes were received is not known
	case !tailRead:
		// A sealed piece replaced the newest tail at its offset: the
		// tail's time still tells the reach when the pieces hold all the
		// tail held (they do, unless an earlier run cut the file with
		// another piece size and the new one is not done with it).
		got, err := b.a.get(ctx, artefact.LogStreamBinlog, f.Tail.Log.Name, f.Tail.Log.Partial, io.Discard)
		if err != nil {
			return fail(err)
		}
		reach = got.Created
		if f.Tail.Offset+got.Size > n {
			reach = time.Time{}
		}
	}
	return reach, n, nil
}

// reachedFrom returns how far the archive reaches without a gap from
// base's file on, judged from the listing alone: when the last file of
// the unbroken run was completed, or its newest tail stored. Zero when the
// archive lacks base's file.
func reachedFrom(archived map[string]BinlogFile, base engine.BinlogPosition) time.Time {
	var until time.Time
	name := base.File
	for range maxBinlogFiles {
		f, ok := archived[name]
		if !ok || f.Problem != "" {
			break
		}
		if !f.Reach.IsZero() {
			until = f.Reach
		}
		if !f.Complete {
			break
		}
		next, err := mysql.NextBinlog(name)
		if err != nil {
			break
		}
		name = next
	}
	return until
}
