package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// BinlogChain is a checked run of binary log files, ready to replay.
type BinlogChain struct {
	// Paths are the local files in sequence order, the first holding the
	// start position, cut after the first file that reaches the stop time.
	Paths []string
	// Last is the time of the last event of the last file; Complete says
	// that file ends with a rotate or stop event.
	Last     time.Time
	Complete bool
	// Reaches says an event at or after the stop time was found: the
	// files hold every event before it.
	Reaches bool
}

// CheckBinlogChain reads every file of paths (local copies named as the
// server named them, in sequence order) and checks that they can be
// replayed from start up to stop: every event in its place with a good
// CRC-32, start.Position at an event boundary of the first file, which
// is start.File, and each file but the last ending in a rotate (or stop)
// event that names the next. Nothing reaches a server. Errors wrap
// ErrBadBinlog when the bytes are at fault.
func CheckBinlogChain(paths []string, start engine.BinlogPosition, stop time.Time) (BinlogChain, error) {
	c := NewChainChecker(start, stop)
	for _, p := range paths {
		if done, err := c.Add(p); err != nil || done {
			return c.Chain(), err
		}
	}
	if len(paths) == 0 {
		return c.Chain(), fmt.Errorf("%w: no binary log file from %s on", ErrBadBinlog, start.File)
	}
	return c.Chain(), nil
}

// ChainChecker checks binary log files one at a time, as they are
// fetched, the way CheckBinlogChain does.
type ChainChecker struct {
	start  engine.BinlogPosition
	stop   time.Time
	expect string
	last   binlogInfo
	chain  BinlogChain
}

// NewChainChecker returns a checker for a replay from start up to stop
// (zero: every event).
func NewChainChecker(start engine.BinlogPosition, stop time.Time) *ChainChecker {
	return &ChainChecker{start: start, stop: stop, expect: start.File}
}

// Next returns the name of the file Add expects next.
func (c *ChainChecker) Next() string { return c.expect }

// Chain returns the files checked so far.
func (c *ChainChecker) Chain() BinlogChain { return c.chain }

// Add checks the file at path, named as the server named it, and
// reports whether the chain now reaches the stop time (holds an event
// at or after it), when no more files are needed.
func (c *ChainChecker) Add(path string) (done bool, err error) {
	name := filepath.Base(path)
	if c.chain.Reaches {
		return true, nil
	}
	if n := len(c.chain.Paths); n > 0 && !c.last.Complete() {
		return false, fmt.Errorf("%w: %s is followed by %s but does not end with a rotate event", ErrBadBinlog, filepath.Base(c.chain.Paths[n-1]), name)
	}
	if name != c.expect {
		return false, fmt.Errorf("%w: %s where the sequence continues with %s (a file is missing)", ErrBadBinlog, name, c.expect)
	}
	first := len(c.chain.Paths) == 0
	info := binlogInfo{}
	if first {
		info.Mark = int64(c.start.Position)
	}
	if info, err = scanFile(path, info); err != nil {
		return false, fmt.Errorf("binary log %s: %w", name, err)
	}
	if first && !info.Marked {
		return false, fmt.Errorf("%w: the backup's position %d is not an event boundary of %s", ErrBadBinlog, c.start.Position, name)
	}
	if info.Truncated {
		return false, fmt.Errorf("%w: %s ends inside an event", ErrBadBinlog, name)
	}
	c.last = info
	c.chain.Paths = append(c.chain.Paths, path)
	c.chain.Last, c.chain.Complete = info.Last, info.Complete()
	if !c.stop.IsZero() && !info.Last.Before(c.stop) {
		c.chain.Reaches = true
		return true, nil
	}
	if c.expect = info.Next; c.expect == "" && info.Stopped {
		if c.expect, err = NextBinlog(name); err != nil {
			return false, err
		}
	}
	return false, nil
}

// scanFile scans the local file at path.
func scanFile(path string, info binlogInfo) (binlogInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return info, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return info, err
	}
	info, err = scanBinlog(f, st.Size(), info)
	if err == nil && info.End != st.Size() && !info.Truncated {
		err = fmt.Errorf("%w: %d bytes after the last event", ErrBadBinlog, st.Size()-info.End)
	}
	return info, err
}

// ReplaySpec says which binary log events to replay.
type ReplaySpec struct {
	// Chain is the checked files (CheckBinlogChain).
	Chain BinlogChain
	// Start is where the replay starts in the first file.
	Start engine.BinlogPosition
	// Stop is the first time not replayed: events stamped at or after it
	// stay out. Times have whole seconds (mariadb-binlog's
	// --stop-datetime); zero replays every event.
	Stop time.Time
	// Database, when set, replays only the events of that database (the
	// restore of a backup of one database); empty replays them all.
	Database string
	// Log receives the tools' stderr.
	Log io.Writer
}

// CheckReplay checks, changing nothing, that the account may replay
// binary logs without writing them to the server's own binary log.
func (e *Engine) CheckReplay(ctx context.Context) error {
	if _, err := tool.Find(e.opts.BinDir, "mariadb-binlog", "mysqlbinlog"); err != nil {
		return err
	}
	if _, err := e.query(ctx, "", "SET SESSION sql_log_bin=0"); err != nil {
		return fmt.Errorf("cannot replay binary logs: the account may not turn off binary logging for its session (it needs BINLOG ADMIN or SUPER): %w", err)
	}
	return nil
}

// ReplayBinlogs feeds "mariadb-binlog --start-position --stop-datetime"
// of the chain to the client. The client's session runs with
// sql_log_bin=0: the replayed events are already archived under their
// first time and position, and written again they would be archived a
// second time and replayed twice by a later restore.
func (e *Engine) ReplayBinlogs(ctx context.Context, spec ReplaySpec) error {
	dump, err := tool.Find(e.opts.BinDir, "mariadb-binlog", "mysqlbinlog")
	if err != nil {
		return err
	}
	client, err := e.client()
	if err != nil {
		return err
	}
	args := []string{"--verify-binlog-checksum", fmt.Sprintf("--start-position=%d", spec.Start.Position)}
	if !spec.Stop.IsZero() {
		args = append(args, "--stop-datetime="+spec.Stop.UTC().Format("2006-01-02 15:04:05"))
	}
	if spec.Database != "" {
		args = append(args, "--database="+spec.Database)
	}
	args = append(args, "--")
	args = append(args, spec.Chain.Paths...)
	pr, pw := io.Pipe()
	dumped := make(chan error, 1)
	go func() {
		// Times are read in the tool's local zone: UTC, as written.
		err := tool.Run(ctx, tool.Cmd{Path: dump, Args: args, Env: []string{"TZ=UTC"}, Stdout: pw, Log: spec.Log})
		if err != nil {
			pw.CloseWithError(err) // the client is killed before it sees an end
		} else {
			pw.Close()
		}
		dumped <- err
	}()
	err = e.run(ctx, tool.Cmd{Path: client, Stdin: pr, Stdout: io.Discard, Log: spec.Log, Args: []string{
		"--batch", "--binary-mode", "--init-command=SET SESSION sql_log_bin=0", maxPacket}})
	pr.CloseWithError(errors.New("the client stopped reading"))
	derr := <-dumped
	if err == nil {
		err = derr
	}
	if err != nil {
		what := "every database"
		if spec.Database != "" {
			what = fmt.Sprintf("database %q", spec.Database)
		}
		return fmt.Errorf("cannot replay the binary logs %s into %s: %w", strings.Join(names(spec.Chain.Paths), ", "), what, err)
	}
	return nil
}

// names returns the base names of paths.
func names(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
