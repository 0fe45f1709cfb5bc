package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
)

// ErrLogBinOff is returned (wrapped) by what needs the binary log, on a
// server that does not write one.
var ErrLogBinOff = errors.New("binary logging is off on the server (log_bin is OFF): start it with --log-bin, --binlog-format=ROW and a server-id to archive binary logs and restore to a time")

// binlogOn reports whether the server writes a binary log.
func (e *Engine) binlogOn(ctx context.Context) (bool, error) {
	out, err := e.query(ctx, "", "SELECT @@log_bin")
	if err != nil {
		return false, fmt.Errorf("cannot read log_bin: %w", err)
	}
	return strings.TrimSpace(out) == "1", nil
}

// positionHeadLen bounds how much of a dump's start is searched for the
// position comment: mariadb-dump writes it before the first table.
const positionHeadLen = 64 << 10

// changeMasterLine is the comment "mariadb-dump --master-data=2" writes
// with the binary log position of its consistent snapshot.
var changeMasterLine = regexp.MustCompile(`(?m)^-- CHANGE MASTER TO MASTER_LOG_FILE='([^'\n]{1,128})', MASTER_LOG_POS=([0-9]{1,20});$`)

// parseDumpPosition finds the binary log position in the start of a dump.
func parseDumpPosition(head []byte) (engine.BinlogPosition, error) {
	m := changeMasterLine.FindSubmatch(head)
	if m == nil {
		return engine.BinlogPosition{}, fmt.Errorf("the dump holds no binary log position (no CHANGE MASTER comment in its first %d bytes)", positionHeadLen)
	}
	pos, err := strconv.ParseUint(string(m[2]), 10, 64)
	if err != nil {
		return engine.BinlogPosition{}, fmt.Errorf("the dump's binary log position %q is not a number", m[2])
	}
	p := engine.BinlogPosition{File: string(m[1]), Position: pos}
	if err := p.Validate(); err != nil {
		return engine.BinlogPosition{}, fmt.Errorf("the dump's binary log position: %w", err)
	}
	return p, nil
}

// headWriter keeps the first positionHeadLen bytes written through it.
type headWriter struct {
	w    io.Writer
	head bytes.Buffer
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := positionHeadLen - h.head.Len(); room > 0 {
		h.head.Write(p[:min(room, len(p))])
	}
	return h.w.Write(p)
}

// gtidAt returns the GTID position of a binary log position, or "" when
// the server cannot tell.
func (e *Engine) gtidAt(ctx context.Context, p engine.BinlogPosition) string {
	out, err := e.query(ctx, "", fmt.Sprintf("SELECT BINLOG_GTID_POS('%s', %d)", p.File, p.Position))
	if err != nil {
		return ""
	}
	g := strings.TrimSpace(out)
	if !engine.ValidGTID(g) {
		return ""
	}
	return g
}
