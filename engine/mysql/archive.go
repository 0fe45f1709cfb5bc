package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// BinlogSink stores archived binary log files, each in pieces (see
// ArchiveBinlogs). The command line and the backup agent implement it over
// the artefact package's log files.
type BinlogSink interface {
	// Archived lists the stored objects of every file.
	Archived(ctx context.Context) ([]BinlogPiece, error)
	// Put stores the whole of r as piece p (PieceSealed, PieceTail or
	// PieceLast); a tail replaces the tail stored at the same offset.
	Put(ctx context.Context, p BinlogPiece, r io.Reader) error
	// Delete removes one stored object (a tail, a sealed piece an
	// earlier run cut elsewhere, or a WholePartial); deleting a missing
	// one is not an error.
	Delete(ctx context.Context, p BinlogPiece) error
}

// ArchiveSpec says how to archive binary logs.
type ArchiveSpec struct {
	// Sink stores the files.
	Sink BinlogSink
	// Dir is the folder under which the files being received are kept
	// until stored; empty means the system's temporary folder.
	Dir string
	// Log receives mariadb-binlog's stderr and a line per stored file.
	Log io.Writer
	// PartialEvery is how often the file being written is stored, when
	// it grew; 0 means 5 s. More than 10 s is taken as 10 s.
	PartialEvery time.Duration
	// PieceSize is the most a stored piece of a file holds, but for a
	// single event larger than that; 0 means DefaultPieceSize, less
	// than 1 KiB is taken as 1 KiB.
	PieceSize int64
	// Progress, when set, receives the archive's lag, measured every
	// ProgressEvery (0: 10 s) with one SHOW BINARY LOGS.
	Progress      func(ArchiveProgress)
	ProgressEvery time.Duration
}

// ErrPurged is returned (wrapped) by ArchiveBinlogs when a file the
// archive needs next is no longer on the server: a gap it cannot fill.
var ErrPurged = errors.New("binary log purged before it was archived")

// pollEvery is how often the received files are looked at.
var pollEvery = time.Second

// restoreEvery is how often a partial file that did not grow is stored
// again.
var restoreEvery = time.Minute

// finalTimeout bounds the uploads after the archiver was told to stop.
const finalTimeout = 5 * time.Minute

// ArchiveBinlogs streams the server's binary logs with "mariadb-binlog
// --read-from-remote-server --raw --stop-never" and stores them through
// spec.Sink until ctx is cancelled; then it stores everything received
// (the file being written as its tail) and returns nil.
//
// A file is stored in pieces of at most spec.PieceSize bytes (or one
// event larger than that), each cut after a whole event: a sealed piece
// is stored once, the file's growing end is stored as its tail, replaced
// as it grows, and the file is complete when its last piece is stored;
// nothing is stored whole. So each store of the file being written
// uploads at most a piece plus what arrived since the last store, however
// large the file grew: the tail (less than a piece) again, and the new
// bytes.
//
// It starts where the archive stops: after the last complete file, or
// at the start of a partial one, fetched again whole from the server
// (its pieces already stored are not stored again), so that a restart or
// a kill leaves no gap and no duplicate. The tail is also stored again
// each minute when it did not grow, and at the end: when it was stored
// says how far the archive reaches. With an empty archive it starts at
// the server's oldest file. A file it needs that the server purged is an
// error wrapping ErrPurged that names it; a server without binary
// logging, ErrLogBinOff. Every file received is checked (event places,
// CRC-32, each file naming the next) before it is stored.
func (e *Engine) ArchiveBinlogs(ctx context.Context, spec ArchiveSpec) error {
	on, err := e.binlogOn(ctx)
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: %w", err)
	}
	if !on {
		return fmt.Errorf("cannot archive binary logs: %w", ErrLogBinOff)
	}
	server, err := e.binaryLogs(ctx)
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: %w", err)
	}
	listed, err := spec.Sink.Archived(ctx)
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: cannot list the archive: %w", err)
	}
	had := storedFiles(listed)
	complete, partial := completeAndPartial(had)
	start, err := resumePoint(complete, partial, server)
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: %w", err)
	}
	p, err := tool.Find(e.opts.BinDir, "mariadb-binlog", "mysqlbinlog")
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: %w", err)
	}
	dir, err := os.MkdirTemp(spec.Dir, "dbbackup-binlog-")
	if err != nil {
		return fmt.Errorf("cannot archive binary logs: %w", err)
	}
	defer os.RemoveAll(dir)
	a := &archiver{sink: spec.Sink, dir: dir, log: spec.Log, expect: start, every: spec.PartialEvery,
		pieceSize: spec.PieceSize, had: had}
	if a.every <= 0 {
		a.every = 5 * time.Second
	}
	if a.pieceSize == 0 {
		a.pieceSize = DefaultPieceSize
	}
	a.pieceSize = max(a.pieceSize, 1<<10)
	a.every = min(a.every, 10*time.Second)
	logf(spec.Log, "archiving binary logs from %s", start)

	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	exited := make(chan error, 1)
	go func() {
		exited <- e.run(fetchCtx, tool.Cmd{Path: p, Log: spec.Log, Args: []string{
			"--read-from-remote-server", "--raw", "--stop-never", "--result-file=" + dir + "/", start}})
	}()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	if spec.ProgressEvery <= 0 {
		spec.ProgressEvery = 10 * time.Second
	}
	var measured time.Time
	for {
		select {
		case <-ctx.Done():
			stopFetch()
			<-exited
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
			defer cancel()
			if err := a.sync(fctx, true); err != nil {
				return fmt.Errorf("cannot archive binary logs: %w", err)
			}
			return nil
		case ferr := <-exited:
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
			defer cancel()
			err := a.sync(fctx, true)
			if ctx.Err() != nil && err == nil {
				return nil
			}
			if ferr == nil {
				ferr = errors.New("mariadb-binlog stopped")
			}
			return fmt.Errorf("cannot archive binary logs: %w", errors.Join(ferr, err))
		case <-tick.C:
			if err := a.sync(ctx, false); err != nil {
				if ctx.Err() != nil {
					continue // stored at the end
				}
				stopFetch()
				<-exited
				return fmt.Errorf("cannot archive binary logs: %w", err)
			}
			if spec.Progress != nil && time.Since(measured) >= spec.ProgressEvery {
				measured = time.Now()
				if p := e.measure(ctx, a, measured); ctx.Err() == nil {
					spec.Progress(p)
				}
			}
		}
	}
}

// archiver stores what mariadb-binlog wrote into dir.
type archiver struct {
	sink   BinlogSink
	dir    string
	log    io.Writer
	every  time.Duration
	expect string // the next file the sequence must hold
	// pieceSize bounds a piece; had is what the archive held when the
	// archiver started.
	pieceSize int64
	had       map[string]*storedFile
	// current is the file being written, scanned as far as scan says;
	// tailStart is where its tail starts (its pieces before are sealed),
	// tails the offsets of its tails in the archive; stored is the end
	// of the last tail stored, and storedAt when.
	current   string
	scan      binlogInfo
	tailStart int64
	tails     []int64
	stored    int64
	storedAt  time.Time
	// storedFile and storedEnd are the newest file stored and how much
	// of it (the archive's end); pendingSince is when the oldest event
	// received but not stored was seen (zero: none).
	storedFile   string
	storedEnd    int64
	pendingSince time.Time
}

// sync stores the files received: each one followed by another, or
// ending in a rotate or stop event, complete (then removes it); the one
// being written as partial when it grew and a.every has passed, or when
// final.
func (a *archiver) sync(ctx context.Context, final bool) error {
	start := time.Now()
	names, err := receivedFiles(a.dir)
	if err != nil {
		return err
	}
	if len(names) > 1 || (len(names) == 1 && names[0] != a.current) {
		a.notePending(start) // a file not stored whole yet
	}
	defer func() {
		switch {
		case a.current != "" && a.scan.End > a.stored:
			a.notePending(start)
		case a.current == "" || a.scan.End == a.stored:
			a.pendingSince = time.Time{} // every event received is stored
		}
	}()
	for i, name := range names {
		if name != a.expect {
			return fmt.Errorf("%w: received %s where the sequence continues with %s", ErrBadBinlog, name, a.expect)
		}
		last := i == len(names)-1
		if name != a.current {
			a.current, a.scan, a.stored, a.tailStart, a.tails = name, binlogInfo{}, 0, 0, nil
			if had := a.had[name]; had != nil {
				a.tails = slices.Clone(had.tails)
			}
		}
		f, err := os.Open(filepath.Join(a.dir, name))
		if err != nil {
			return err
		}
		err = a.syncFile(ctx, f, name, last, final)
		f.Close()
		if err != nil {
			return err
		}
		if a.current != name { // stored complete
			continue
		}
		break
	}
	return nil
}

// syncFile stores one received file; see sync.
func (a *archiver) syncFile(ctx context.Context, f *os.File, name string, last, final bool) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	cut, all, err := a.scanPieces(ctx, f, name, st.Size())
	if err != nil {
		return err
	}
	if all && a.scan.Complete() {
		if err := a.putLast(ctx, f, name); err != nil {
			return err
		}
		next := a.scan.Next
		if next == "" {
			if next, err = NextBinlog(name); err != nil {
				return err
			}
		}
		a.expect, a.current = next, ""
		return os.Remove(f.Name())
	}
	if !last {
		return fmt.Errorf("%w: %s was followed by another file but does not end with a rotate or stop event", ErrBadBinlog, name)
	}
	// Stored again after a piece was sealed (it ends the replaced tail's
	// reach), and when unchanged too, now and then and at the end: the
	// time a tail was stored tells a restore how far the archive reaches
	// on a quiet server.
	since := time.Since(a.storedAt)
	if cut || final || (a.scan.End > a.stored && since >= a.every) || since >= restoreEvery {
		return a.putTail(ctx, f, name)
	}
	return nil
}

// receivedFiles lists the binary log files in dir in sequence order.
func receivedFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if _, _, err := parseBinlogName(e.Name()); err == nil && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sortBinlogs(names)
	return names, nil
}

// sortBinlogs sorts valid binary log file names by sequence number.
func sortBinlogs(names []string) {
	sort.Slice(names, func(i, j int) bool {
		_, a, _ := parseBinlogName(names[i])
		_, b, _ := parseBinlogName(names[j])
		return a < b
	})
}

// logf writes one line to log, when set.
func logf(log io.Writer, format string, args ...any) {
	if log != nil {
		fmt.Fprintf(log, format+"\n", args...)
	}
}
