package pitr

import (
	"context"
	"errors"
	"fmt"
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

// byName indexes the scope's archived binary logs by name; a file stored
// complete hides its partial copy.
func (b BinlogArchive) byName(ctx context.Context) (map[string]artefact.LogFile, error) {
	files, err := artefact.ListLogs(ctx, b.a.Store, b.a.Scope, artefact.LogStreamBinlog)
	if err != nil {
		return nil, fmt.Errorf("cannot list the binary logs of scope %s: %w", b.a.Scope, err)
	}
	out := map[string]artefact.LogFile{}
	for _, f := range files {
		if old, ok := out[f.Name]; ok && !old.Partial {
			continue
		}
		out[f.Name] = f
	}
	return out, nil
}

// Fetch downloads the scope's binary logs from the base's position on
// into dir, each verified by the log file's checksums and checked by the
// chain checker as it arrives, until one reaches stop. It refuses a file
// missing from the sequence, a damaged one, and an archive that does not
// reach stop: nothing has reached a database then.
func (b BinlogArchive) Fetch(ctx context.Context, base engine.BinlogPosition, stop time.Time, dir string) (mysql.BinlogChain, error) {
	scope := b.a.Scope
	archived, err := b.byName(ctx)
	if err != nil {
		return mysql.BinlogChain{}, err
	}
	check := mysql.NewChainChecker(base, stop)
	var lastStored time.Time
	for range maxBinlogFiles {
		name := check.Next()
		lf, ok := archived[name]
		if name == "" || !ok {
			break
		}
		path := filepath.Join(dir, name)
		got, err := b.download(ctx, lf, path)
		if err != nil {
			return mysql.BinlogChain{}, err
		}
		lastStored = got.Created
		done, err := check.Add(path)
		if err != nil {
			return mysql.BinlogChain{}, fmt.Errorf("binary log %s of scope %s: %w", name, scope, err)
		}
		if done {
			return check.Chain(), nil
		}
		if lf.Partial {
			break
		}
	}
	c := check.Chain()
	at := stop.Add(-time.Second).UTC().Format(time.RFC3339)
	switch {
	case len(c.Paths) == 0:
		return c, fmt.Errorf("cannot restore to %s: binary log %s, where the backup stands, is not in the archive of scope %s", at, base.File, scope)
	case !c.Complete && !lastStored.Before(stop):
		// The partial file was stored after the stop time: it holds
		// every event before it.
		return c, nil
	case c.Complete:
		return c, fmt.Errorf("cannot restore to %s: binary log %s is missing from the archive of scope %s (the sequence continues there after %s)", at, check.Next(), scope, filepath.Base(c.Paths[len(c.Paths)-1]))
	default:
		return c, fmt.Errorf("cannot restore to %s: the archive of scope %s reaches only %s (binary log %s, stored %s); is the archiver running?", at, scope, c.Last.UTC().Format(time.RFC3339), filepath.Base(c.Paths[len(c.Paths)-1]), lastStored.UTC().Format(time.RFC3339))
	}
}

// download writes one archived file to path, removed again when the log
// file fails its checks.
func (b BinlogArchive) download(ctx context.Context, lf artefact.LogFile, path string) (artefact.LogFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return lf, err
	}
	got, err := b.a.get(ctx, lf.Stream, lf.Name, lf.Partial, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		if errors.Is(err, store.ErrNotFound) {
			return got, fmt.Errorf("binary log %s of scope %s is missing from the archive: %w", lf.Name, lf.Scope, err)
		}
		return got, fmt.Errorf("binary log %s of scope %s: %w", lf.Name, lf.Scope, err)
	}
	return got, nil
}

// reachedFrom returns how far the archive reaches without a gap from
// base's file on, judged from the listing alone: the time the last file of
// the unbroken run was stored. Zero when the archive lacks base's file.
func reachedFrom(archived map[string]artefact.LogFile, base engine.BinlogPosition) time.Time {
	var until time.Time
	name := base.File
	for range maxBinlogFiles {
		lf, ok := archived[name]
		if !ok {
			break
		}
		until = lf.ModTime
		if lf.Partial {
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
