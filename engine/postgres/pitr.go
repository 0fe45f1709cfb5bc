package postgres

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// WALArchive is where archived WAL files are kept: the archiver puts
// them, a recovery lists and reads them. Get verifies what it writes to w
// (checksums, authenticity) and fails on a damaged file.
type WALArchive interface {
	Put(ctx context.Context, name string, partial bool, r io.Reader) error
	List(ctx context.Context) ([]WALFile, error)
	Get(ctx context.Context, name string, partial bool, w io.Writer) error
}

// PrepareRecovery lists the archive, plans the recovery of base to target
// (zero: the end of the archive; see PlanRecovery) and verifies every file
// of the plan, reading each whole: its checksums (by Get), and for each
// segment that its first page is the segment its name says, of the
// base's cluster (system identifier), timeline and segment size. An error
// names the file.
func PrepareRecovery(ctx context.Context, base engine.Physical, target time.Time, arch WALArchive) (RecoveryPlan, error) {
	sysid, err := ParseSystemID(base.SystemID)
	if err != nil {
		return RecoveryPlan{}, fmt.Errorf("cannot plan the recovery: the base backup's %w", err)
	}
	files, err := arch.List(ctx)
	if err != nil {
		return RecoveryPlan{}, fmt.Errorf("cannot list the WAL archive: %w", err)
	}
	histories, err := readHistories(ctx, arch, files)
	if err != nil {
		return RecoveryPlan{}, err
	}
	plan, err := PlanRecovery(base, files, histories, target)
	if err != nil {
		return plan, err
	}
	for _, f := range plan.Segments {
		seg, err := ParseSegmentName(f.Name, base.WALSegmentSize)
		if err != nil {
			return plan, err
		}
		head := &headWriter{max: walHeaderSize}
		if err := arch.Get(ctx, f.Name, f.Partial, head); err != nil {
			return plan, fmt.Errorf("WAL segment %s%s is damaged or unreadable: %w", f.Name, partialNote(f.Partial), err)
		}
		if err := CheckSegment(seg, head.buf.Bytes(), sysid, base.WALSegmentSize); err != nil {
			return plan, fmt.Errorf("WAL segment %s%s cannot be replayed on this base backup: %w", f.Name, partialNote(f.Partial), err)
		}
	}
	return plan, nil
}

// readHistories reads and parses every timeline history file archived.
func readHistories(ctx context.Context, arch WALArchive, files []WALFile) (map[uint32][]Fork, error) {
	out := map[uint32][]Fork{}
	for _, f := range files {
		tli, ok := ParseHistoryName(f.Name)
		if !ok || f.Partial {
			continue
		}
		var b limitedBuffer
		b.max = maxHistory
		if err := arch.Get(ctx, f.Name, false, &b); err != nil {
			return nil, fmt.Errorf("timeline history file %s is damaged or unreadable: %w", f.Name, err)
		}
		forks, err := ParseHistory(tli, b.buf.Bytes())
		if err != nil {
			return nil, err
		}
		out[tli] = forks
	}
	return out, nil
}

func partialNote(partial bool) string {
	if partial {
		return " (partial)"
	}
	return ""
}

// headWriter keeps the first max bytes written to it and discards the
// rest.
type headWriter struct {
	max int
	buf bytes.Buffer
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// limitedBuffer keeps up to max bytes and fails beyond.
type limitedBuffer struct {
	max int
	buf bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		return 0, fmt.Errorf("larger than %d bytes", l.max)
	}
	return l.buf.Write(p)
}

// Windows returns the moments each base backup can be recovered to with
// the archive as it is: from the base's consistency to the end of the
// WAL archived after it (PlanRecovery with no target). A base whose plan
// fails (a gap) recovers only to its own end; the error is returned
// beside the window.
func Windows(ctx context.Context, bases []engine.Physical, arch WALArchive) ([]Window, error) {
	files, err := arch.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list the WAL archive: %w", err)
	}
	histories, err := readHistories(ctx, arch, files)
	if err != nil {
		return nil, err
	}
	out := make([]Window, len(bases))
	for i, b := range bases {
		out[i] = Window{From: b.EndTime, To: b.EndTime, Timeline: b.Timeline}
		plan, err := PlanRecovery(b, files, histories, time.Time{})
		if err != nil {
			out[i].Problem = err.Error()
			if plan.End.After(b.EndTime) {
				out[i].To = plan.End // up to the gap
			}
			continue
		}
		out[i].To, out[i].Timeline = plan.End, plan.Timeline
	}
	return out, nil
}

// Window is a stretch of time a base backup recovers to.
type Window struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Timeline uint32    `json:"timeline"`
	// Problem says why the window ends early (a gap in the archive).
	Problem string `json:"problem,omitempty"`
}
