package postgres

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ArchiveProgress is how far the WAL archive is behind the server, as the
// archiver measured it (ArchiveSpec.Progress): one query, on the
// archiver's own schedule, so that nobody else needs a connection to know.
type ArchiveProgress struct {
	// At is when it was measured.
	At time.Time
	// ServerLSN is the server's current WAL position
	// (pg_current_wal_lsn); ArchivedLSN the end of the WAL this archiver
	// uploaded (0: nothing yet since it started). The end of a partial
	// segment is its last byte that is not zero (pg_receivewal pads the
	// file with zeros): a few bytes short of the true end at most.
	ServerLSN, ArchivedLSN LSN
	// Bytes is ServerLSN - ArchivedLSN, at least 0; -1 when unknown
	// (nothing uploaded yet, or the query failed).
	Bytes int64
	// PendingSince is when the oldest WAL not yet uploaded was received
	// into the spool (to the spool's poll, a second) or, when it is not
	// received yet, first seen on the server (to the measurement); zero
	// when nothing is pending.
	PendingSince time.Time
	// Slot is the replication slot; SlotRetained the WAL it holds back on
	// the server (pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn),
	// bytes; -1 when the slot is missing or has no position), SlotStatus
	// its wal_status (PostgreSQL 13 and later; empty before): "lost" means
	// the server removed WAL the slot needed.
	Slot         string
	SlotRetained int64
	SlotStatus   string
	// Err says why it could not be measured; nil when it was.
	Err error
}

// walPage is the WAL page size: a smaller difference between the server's
// position and the end of the uploaded WAL is the zero padding of a
// partial segment, not WAL waiting to be received.
const walPage = 8192

// progressQuery reads the server's position, the segment size and the
// slot's retained WAL in one round trip; wal_status through to_jsonb, so
// that the query also runs on PostgreSQL 12, which has no such column.
// It runs in-process (queryDirect), the slot's name its one parameter.
const progressQuery = `SELECT pg_current_wal_lsn()::text, pg_size_bytes(current_setting('wal_segment_size'))::text,
 coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint, -1)::text, coalesce(to_jsonb(s)->>'wal_status', '')
 FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1`

// SlotState is what the server says of a replication slot.
type SlotState struct {
	ServerLSN LSN
	SegSize   int64
	// Retained is -1 when the slot is missing or has no position.
	Retained int64
	Status   string
}

// Slot measures replication slot name: the server's position, the WAL the
// slot holds back, its wal_status.
func (e *Engine) Slot(ctx context.Context, name string) (SlotState, error) {
	if err := CheckSlotName(name); err != nil {
		return SlotState{}, err
	}
	rows, err := e.queryDirect(ctx, "postgres", progressQuery, name)
	if err != nil {
		return SlotState{}, fmt.Errorf("cannot read replication slot %q: %w", name, err)
	}
	if len(rows) != 1 {
		return SlotState{}, fmt.Errorf("cannot read replication slot %q: the query returned %d rows, want 1", name, len(rows))
	}
	f := make([]string, len(rows[0]))
	for i, v := range rows[0] {
		f[i] = string(v)
	}
	return parseSlotState(f)
}

// parseSlotState reads progressQuery's one row, its fields as text.
func parseSlotState(f []string) (SlotState, error) {
	if len(f) != 4 {
		return SlotState{}, fmt.Errorf("cannot read the slot query's answer: %d fields, want 4", len(f))
	}
	var s SlotState
	var err error
	if s.ServerLSN, err = ParseLSN(f[0]); err != nil {
		return s, err
	}
	if s.SegSize, err = strconv.ParseInt(f[1], 10, 64); err != nil || checkSegSize(s.SegSize) != nil {
		return s, fmt.Errorf("cannot read the server's wal_segment_size %q", f[1])
	}
	if s.Retained, err = strconv.ParseInt(f[2], 10, 64); err != nil || s.Retained < -1 {
		return s, fmt.Errorf("cannot read the slot's retained WAL %q", f[2])
	}
	if len(f[3]) > 32 {
		return s, fmt.Errorf("cannot read the slot's wal_status: %d bytes", len(f[3]))
	}
	s.Status = f[3]
	return s, nil
}

// DropSlot drops replication slot name when it exists and no client
// streams through it; it reports whether a slot is left (one in use).
func (e *Engine) DropSlot(ctx context.Context, name string) (inUse bool, err error) {
	if err := CheckSlotName(name); err != nil {
		return false, err
	}
	out, err := e.query(ctx, "postgres", `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :'slot' AND NOT active;
SELECT count(*) FROM pg_replication_slots WHERE slot_name = :'slot'`, "slot="+name)
	if err != nil {
		return false, fmt.Errorf("cannot drop replication slot %q: %w", name, err)
	}
	out = strings.TrimSpace(out)
	return out[strings.LastIndexByte(out, '\n')+1:] != "0", nil
}

// measure asks the server where it stands and compares with what u
// uploaded.
func (e *Engine) measure(ctx context.Context, spec ArchiveSpec, u *uploader, now time.Time) ArchiveProgress {
	p := ArchiveProgress{At: now, Slot: spec.Slot, Bytes: -1, SlotRetained: -1}
	s, err := e.Slot(ctx, spec.Slot)
	if err != nil {
		p.Err = err
		p.PendingSince = u.pendingSince
		return p
	}
	p.ServerLSN, p.SlotRetained, p.SlotStatus = s.ServerLSN, s.Retained, s.Status
	if end, ok := u.archivedEnd(s.SegSize); ok {
		p.ArchivedLSN = end
		p.Bytes = max(0, int64(s.ServerLSN)-int64(end))
		if p.Bytes > walPage {
			u.notePending(now) // on the server, not received yet
		}
	}
	p.PendingSince = u.pendingSince
	return p
}

// archivedEnd is the end of what u uploaded, for segments of segSize.
func (u *uploader) archivedEnd(segSize int64) (LSN, bool) {
	if u.endName == "" {
		return 0, false
	}
	seg, err := ParseSegmentName(u.endName, segSize)
	if err != nil {
		return 0, false
	}
	if u.endOff < 0 {
		return LSN((seg.No + 1) * uint64(segSize)), true
	}
	return LSN(seg.No*uint64(segSize) + uint64(min(u.endOff, segSize))), true
}

// uploaded records that name was uploaded, to offset end (-1: whole).
func (u *uploader) noteUploaded(name string, end int64) {
	if u.endName == "" || name[8:] > u.endName[8:] || (name[8:] == u.endName[8:] && (end < 0 || (u.endOff >= 0 && end > u.endOff))) {
		u.endName, u.endOff = name, end
	}
}

// notePending records that WAL not yet uploaded exists since at.
func (u *uploader) notePending(at time.Time) {
	if u.pendingSince.IsZero() || at.Before(u.pendingSince) {
		u.pendingSince = at
	}
}

// endReader passes r through and finds the end of its last byte that is
// not zero.
type endReader struct {
	r      io.Reader
	n, end int64
}

func (e *endReader) Read(p []byte) (int, error) {
	k, err := e.r.Read(p)
	for i := k - 1; i >= 0; i-- {
		if p[i] != 0 {
			e.end = e.n + int64(i) + 1
			break
		}
	}
	e.n += int64(k)
	return k, err
}
