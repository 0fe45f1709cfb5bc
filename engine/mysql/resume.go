package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// binaryLogs returns the files of SHOW BINARY LOGS, oldest first.
func (e *Engine) binaryLogs(ctx context.Context) ([]string, error) {
	out, err := e.query(ctx, "", "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("cannot list the server's binary logs (the account needs BINLOG MONITOR): %w", err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, _, _ := strings.Cut(line, "\t")
		if name == "" {
			continue
		}
		if _, _, err := parseBinlogName(name); err != nil {
			return nil, fmt.Errorf("cannot list the server's binary logs: %w", err)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("the server lists no binary logs")
	}
	sortBinlogs(names)
	return names, nil
}

// resumePoint returns the file archiving starts with: the server's oldest
// for an empty archive; else the newest partial file when it is newer
// than every complete one (fetched again whole), or the file after the
// newest complete one. It must be on the server.
func resumePoint(complete, partial, server []string) (string, error) {
	if len(server) == 0 {
		return "", errors.New("the server lists no binary logs")
	}
	base, _, err := parseBinlogName(server[0])
	if err != nil {
		return "", err
	}
	var lastDone, lastPartial string
	var seqDone, seqPartial uint64
	for _, set := range []struct {
		names []string
		last  *string
		seq   *uint64
	}{{complete, &lastDone, &seqDone}, {partial, &lastPartial, &seqPartial}} {
		for _, n := range set.names {
			b, s, err := parseBinlogName(n)
			if err != nil {
				return "", fmt.Errorf("the archive holds %q: %w", n, err)
			}
			if b != base {
				return "", fmt.Errorf("the archive holds %s but the server writes %s.*: another server's archive", n, base)
			}
			if *set.last == "" || s > *set.seq {
				*set.last, *set.seq = n, s
			}
		}
	}
	start := server[0]
	switch {
	case lastPartial != "" && (lastDone == "" || seqPartial > seqDone):
		start = lastPartial
	case lastDone != "":
		if start, err = NextBinlog(lastDone); err != nil {
			return "", err
		}
	}
	_, seq, _ := parseBinlogName(start)
	_, first, _ := parseBinlogName(server[0])
	_, newest, _ := parseBinlogName(server[len(server)-1])
	switch {
	case seq < first:
		return "", fmt.Errorf("%w: %s is no longer on the server (its oldest is %s): the archive has a gap from %s on, and restores to a time after it are impossible until a new backup", ErrPurged, start, server[0], start)
	case seq > newest:
		return "", fmt.Errorf("the archive holds files up to %s but the server's newest is %s: another server's archive, or the server's binary logs were reset", start, server[len(server)-1])
	}
	return start, nil
}
