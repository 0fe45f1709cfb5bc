package postgres

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// FormatBaseTar is the stream of a physical backup: the one tar file
// "pg_basebackup -D - -Ft -X fetch" writes, with the WAL that makes it
// consistent (pg_wal/) and PostgreSQL's backup_manifest inside.
const FormatBaseTar = "pg_basebackup-tar"

// timeNow is the clock of physical backups, faked by tests.
var timeNow = time.Now

// backupPhysical streams a base backup of the whole cluster into w.
//
// "-X fetch" puts the WAL written during the backup into the tar, so the
// base alone is a consistent copy, even without the archive; "-X stream"
// would need a second stream beside the tar, which stdout cannot carry.
// A cluster with tablespaces outside the data directory cannot be
// written to one stream, and pg_basebackup refuses it.
func (e *Engine) backupPhysical(ctx context.Context, spec engine.BackupSpec, w io.Writer) (engine.Result, error) {
	res, err := e.result(ctx, "postgres", "pg_basebackup")
	if err != nil {
		return res, err
	}
	res.Method, res.Format = engine.MethodPhysical, FormatBaseTar
	info, err := e.controlInfo(ctx)
	if err != nil {
		return res, err
	}
	if res.Databases, err = e.databases(ctx); err != nil {
		return res, err
	}
	c, err := e.cmd("pg_basebackup", "postgres", "--pgdata=-", "--format=tar", "--wal-method=fetch",
		"--checkpoint=fast", "--verbose", "--label=dbbackup")
	if err != nil {
		return res, err
	}
	pos := &positionLog{next: spec.Log}
	out := &tool.CountingWriter{W: w, Progress: spec.Progress}
	c.Stdout, c.Log = out, pos
	info.StartTime = timeNow().UTC()
	err = tool.Run(ctx, c)
	info.EndTime = timeNow().UTC()
	res.Bytes = out.N
	if err != nil {
		return res, fmt.Errorf("cannot take a physical backup: %w", err)
	}
	if info.StartLSN, info.EndLSN, info.Timeline, err = pos.positions(); err != nil {
		return res, fmt.Errorf("cannot take a physical backup: %w", err)
	}
	res.Physical = &info
	return res, nil
}

// controlInfo asks the server for its system identifier and WAL segment
// size.
func (e *Engine) controlInfo(ctx context.Context) (engine.Physical, error) {
	out, err := e.query(ctx, "postgres", "SELECT system_identifier, current_setting('wal_segment_size') FROM pg_control_system()")
	if err != nil {
		return engine.Physical{}, fmt.Errorf("cannot read the server's system identifier: %w", err)
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 2 {
		return engine.Physical{}, fmt.Errorf("cannot read the server's system identifier: unexpected answer %q", out)
	}
	if _, err := ParseSystemID(f[0]); err != nil {
		return engine.Physical{}, err
	}
	size, err := parseSize(f[1])
	if err != nil {
		return engine.Physical{}, fmt.Errorf("cannot read the server's wal_segment_size: %w", err)
	}
	return engine.Physical{SystemID: f[0], WALSegmentSize: size}, nil
}

// parseSize reads a size setting as SHOW writes it: "16MB", "1GB".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"kB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	if err := checkSegSize(n * mult); err != nil {
		return 0, err
	}
	return n * mult, nil
}

// positionLog passes pg_basebackup's verbose log on and keeps the WAL
// positions it reports.
type positionLog struct {
	next       io.Writer
	mu         sync.Mutex
	start, end string
	tli        string
}

var (
	startLine = regexp.MustCompile(`write-ahead log start point: ([0-9A-F]+/[0-9A-F]+) on timeline ([0-9]+)`)
	endLine   = regexp.MustCompile(`write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)`)
)

// Write takes whole lines, as tool.Run writes them.
func (p *positionLog) Write(b []byte) (int, error) {
	p.mu.Lock()
	if m := startLine.FindSubmatch(b); m != nil {
		p.start, p.tli = string(m[1]), string(m[2])
	}
	if m := endLine.FindSubmatch(b); m != nil {
		p.end = string(m[1])
	}
	p.mu.Unlock()
	if p.next != nil {
		return p.next.Write(b)
	}
	return len(b), nil
}

func (p *positionLog) positions() (start, end string, tli uint32, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := ParseLSN(p.start)
	if err != nil {
		return "", "", 0, fmt.Errorf("pg_basebackup did not report its start position: %w", err)
	}
	e, err := ParseLSN(p.end)
	if err != nil {
		return "", "", 0, fmt.Errorf("pg_basebackup did not report its end position: %w", err)
	}
	t, err := strconv.ParseUint(p.tli, 10, 32)
	if err != nil || t == 0 {
		return "", "", 0, fmt.Errorf("pg_basebackup did not report its timeline")
	}
	return s.String(), e.String(), uint32(t), nil
}
