package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ArchiveProgress is how far the binary log archive is behind the server,
// as the archiver measured it (ArchiveSpec.Progress): one SHOW BINARY
// LOGS on the archiver's own schedule, so that nobody else needs a
// connection to know.
type ArchiveProgress struct {
	// At is when it was measured.
	At time.Time
	// ServerFile and ServerSize are the server's newest binary log and
	// its size (the server's position); ArchivedFile and ArchivedEnd the
	// file this archiver last stored and how much of it (empty: nothing
	// yet since it started).
	ServerFile   string
	ServerSize   int64
	ArchivedFile string
	ArchivedEnd  int64
	// Bytes is what the server's binary logs hold past the archived end;
	// -1 when unknown (nothing stored yet, or the query failed).
	Bytes int64
	// PendingSince is when the oldest binary log event not yet stored was
	// received (to the poll, a second) or, when it is not received yet,
	// first seen on the server (to the measurement); zero when nothing is
	// pending.
	PendingSince time.Time
	// Err says why it could not be measured; nil when it was.
	Err error
}

// serverLog is one line of SHOW BINARY LOGS.
type serverLog struct {
	name string
	size int64
}

// binaryLogSizes lists the server's binary logs and their sizes, in order.
func (e *Engine) binaryLogSizes(ctx context.Context) ([]serverLog, error) {
	out, err := e.query(ctx, "", "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("cannot list the server's binary logs (the account needs BINLOG MONITOR): %w", err)
	}
	return parseBinaryLogs(out)
}

// parseBinaryLogs reads SHOW BINARY LOGS: name, size and, on newer
// servers, more columns.
func parseBinaryLogs(out string) ([]serverLog, error) {
	var logs []serverLog
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		if _, _, err := parseBinlogName(f[0]); err != nil {
			return nil, fmt.Errorf("cannot list the server's binary logs: %w", err)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("cannot list the server's binary logs: size %q of %s", f[1], f[0])
		}
		logs = append(logs, serverLog{f[0], n})
	}
	if len(logs) == 0 {
		return nil, fmt.Errorf("the server lists no binary logs")
	}
	return logs, nil
}

// behind is how many bytes logs hold past file's first end bytes.
func behind(logs []serverLog, file string, end int64) int64 {
	_, seq, err := parseBinlogName(file)
	if err != nil {
		return -1
	}
	var n int64
	for _, l := range logs {
		_, s, _ := parseBinlogName(l.name)
		switch {
		case s == seq:
			n += max(0, l.size-end)
		case s > seq:
			n += l.size
		}
	}
	return n
}

// measure asks the server where it stands and compares with what a stored.
func (e *Engine) measure(ctx context.Context, a *archiver, now time.Time) ArchiveProgress {
	p := ArchiveProgress{At: now, Bytes: -1, ArchivedFile: a.storedFile, ArchivedEnd: a.storedEnd}
	logs, err := e.binaryLogSizes(ctx)
	if err != nil {
		p.Err = err
		p.PendingSince = a.pendingSince
		return p
	}
	last := logs[len(logs)-1]
	p.ServerFile, p.ServerSize = last.name, last.size
	if a.storedFile != "" {
		p.Bytes = behind(logs, a.storedFile, a.storedEnd)
		if p.Bytes > 0 {
			a.notePending(now) // on the server, not received yet
		}
	}
	p.PendingSince = a.pendingSince
	return p
}

// notePending records that binary log events not yet stored exist since
// at.
func (a *archiver) notePending(at time.Time) {
	if a.pendingSince.IsZero() || at.Before(a.pendingSince) {
		a.pendingSince = at
	}
}
