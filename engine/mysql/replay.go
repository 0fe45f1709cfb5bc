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
	var c BinlogChain
	if len(paths) == 0 {
		return c, fmt.Errorf("%w: no binary log file from %s on", ErrBadBinlog, start.File)
	}
	if filepath.Base(paths[0]) != start.File {
		return c, fmt.Errorf("%w: the files start with %s, not with the backup's %s", ErrBadBinlog, filepath.Base(paths[0]), start.File)
	}
	expect := start.File
	for i, p := range paths {
		name := filepath.Base(p)
		if name != expect {
			return c, fmt.Errorf("%w: %s follows where the sequence continues with %s (a file is missing)", ErrBadBinlog, name, expect)
		}
		info := binlogInfo{}
		if i == 0 {
			info.Mark = int64(start.Position)
		}
		info, err := scanFile(p, info)
		if err != nil {
			return c, fmt.Errorf("binary log %s: %w", name, err)
		}
		if i == 0 && !info.Marked {
			return c, fmt.Errorf("%w: the backup's position %d is not an event boundary of %s", ErrBadBinlog, start.Position, name)
		}
		if info.Truncated {
			return c, fmt.Errorf("%w: %s ends inside an event", ErrBadBinlog, name)
		}
		c.Paths = append(c.Paths, p)
		c.Last, c.Complete = info.Last, info.Complete()
		if !stop.IsZero() && !info.Last.Before(stop) {
			c.Reaches = true
			return c, nil
		}
		if i < len(paths)-1 {
			if !info.Complete() {
				return c, fmt.Errorf("%w: %s is followed by %s but does not end with a rotate event", ErrBadBinlog, name, filepath.Base(paths[i+1]))
			}
			if expect = info.Next; expect == "" {
				if expect, err = nextBinlog(name); err != nil {
					return c, err
				}
			}
		}
	}
	return c, nil
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
