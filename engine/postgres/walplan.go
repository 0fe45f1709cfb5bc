package postgres

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// WALFile is one file of the WAL archive as its listing shows it.
type WALFile struct {
	// Name is the server's own file name: a segment
	// ("000000010000000000000003") or a timeline history file
	// ("00000002.history").
	Name string
	// Partial marks the segment still being written, uploaded as it grows.
	Partial bool
	// ModTime is when the file was archived.
	ModTime time.Time
}

// RecoveryPlan is what a recovery from one base backup needs of the
// archive.
type RecoveryPlan struct {
	// Timeline is the timeline recovery follows to its end: the newest
	// one that descends from the base backup.
	Timeline uint32
	// Histories are the history files of the timelines on the way.
	Histories []WALFile
	// Segments are the archived segments recovery replays, in order, up
	// to the first one archived after the target (every one when there
	// is no target).
	Segments []WALFile
	// End is when the last file on the way was archived: the newest
	// moment this base recovers to.
	End time.Time
}

// ErrMissingWAL is wrapped by a plan that finds a gap in the archive.
var ErrMissingWAL = errors.New("WAL missing from the archive")

// ErrOutsideWindow is wrapped by a plan whose target is before the base
// is consistent or after the end of the archive.
var ErrOutsideWindow = errors.New("the target is outside the recoverable window")

// PlanRecovery works out, from the archive's listing and the parsed
// history files (by timeline), which files a recovery of base needs to
// reach target (zero: the end of the archive). It follows the newest
// timeline descending from the base, as recovery does; a segment on that
// way missing before the end of the archive is an error naming it. The
// base holds its own WAL (pg_basebackup -X fetch), so segments up to its
// end position may be missing from the archive.
func PlanRecovery(base engine.Physical, files []WALFile, histories map[uint32][]Fork, target time.Time) (RecoveryPlan, error) {
	var plan RecoveryPlan
	segSize := base.WALSegmentSize
	if err := checkSegSize(segSize); err != nil {
		return plan, fmt.Errorf("cannot plan the recovery: the base backup's %w", err)
	}
	start, err := ParseLSN(base.StartLSN)
	if err != nil {
		return plan, fmt.Errorf("cannot plan the recovery: the base backup's start: %w", err)
	}
	end, err := ParseLSN(base.EndLSN)
	if err != nil {
		return plan, fmt.Errorf("cannot plan the recovery: the base backup's end: %w", err)
	}
	if base.Timeline == 0 || end < start {
		return plan, fmt.Errorf("cannot plan the recovery: the base backup's timeline or WAL range is invalid")
	}
	if !target.IsZero() && target.Before(base.EndTime) {
		return plan, fmt.Errorf("%w: %s is before the base backup was consistent (%s)", ErrOutsideWindow,
			target.UTC().Format(time.RFC3339), base.EndTime.UTC().Format(time.RFC3339))
	}
	complete := map[Segment]WALFile{}
	partial := map[Segment]WALFile{}
	historyFiles := map[uint32]WALFile{}
	for _, f := range files {
		if tli, ok := ParseHistoryName(f.Name); ok && !f.Partial {
			historyFiles[tli] = f
			continue
		}
		seg, err := ParseSegmentName(f.Name, segSize)
		if err != nil {
			continue // not ours to replay; the archive holds only server file names
		}
		if f.Partial {
			partial[seg] = f
		} else {
			complete[seg] = f
		}
	}
	way := chooseTimeline(base.Timeline, start, historyFiles, histories)
	plan.Timeline = way.tli
	for _, b := range way.begins {
		if b.tli != base.Timeline {
			plan.Histories = append(plan.Histories, historyFiles[b.tli])
		}
	}
	endSeg := SegmentOf(end, segSize)
	var stop Segment    // the first segment the archive lacks
	var inPart *Segment // the segment archived only in part, if any
	for no := SegmentOf(start, segSize); ; no++ {
		seg := Segment{Timeline: way.timelineOf(no, segSize), No: no}
		f, ok := complete[seg]
		if !ok {
			f, ok = partial[seg]
		}
		if !ok {
			if no <= endSeg {
				continue // in the base backup's own pg_wal
			}
			stop = seg
			break
		}
		if target.IsZero() || !plan.End.After(target) {
			plan.Segments = append(plan.Segments, f)
		}
		if f.ModTime.After(plan.End) {
			plan.End = f.ModTime
		}
		if f.Partial {
			inPart = &seg
			stop = Segment{Timeline: way.timelineOf(no+1, segSize), No: no + 1}
			break
		}
	}
	// A later segment on the way means a gap, not the end of the archive.
	for _, set := range []map[Segment]WALFile{complete, partial} {
		for seg := range set {
			if seg.No < stop.No || way.timelineOf(seg.No, segSize) != seg.Timeline {
				continue
			}
			if inPart != nil {
				return plan, fmt.Errorf("%w: segment %s is archived only in part, and later segments follow it", ErrMissingWAL, inPart.Name(segSize))
			}
			return plan, fmt.Errorf("%w: segment %s (later segments are archived)", ErrMissingWAL, stop.Name(segSize))
		}
	}
	if plan.End.IsZero() {
		plan.End = base.EndTime
	}
	if !target.IsZero() && target.After(plan.End) {
		return plan, fmt.Errorf("%w: %s is after the end of the archive; this base backup recovers from %s to %s", ErrOutsideWindow,
			target.UTC().Format(time.RFC3339), base.EndTime.UTC().Format(time.RFC3339), plan.End.UTC().Format(time.RFC3339Nano))
	}
	return plan, nil
}

// timelineBegin is where a timeline on the way begins.
type timelineBegin struct {
	tli   uint32
	begin LSN
}

// timelineWay is the way recovery follows: the timelines from the base's
// to the target's, each with where it begins, oldest first.
type timelineWay struct {
	tli    uint32
	begins []timelineBegin
}

// timelineOf returns the timeline whose file recovery reads for segment
// no: the newest one on the way that begins at or before that segment
// (the segment where a timeline begins is read from the new timeline).
func (w timelineWay) timelineOf(no uint64, segSize int64) uint32 {
	t := w.begins[0].tli
	for _, b := range w.begins[1:] {
		if SegmentOf(b.begin, segSize) <= no {
			t = b.tli
		}
	}
	return t
}

// chooseTimeline picks the newest timeline whose history passes through
// the base's timeline after the base started (or the base's own).
func chooseTimeline(baseTLI uint32, start LSN, files map[uint32]WALFile, histories map[uint32][]Fork) timelineWay {
	tlis := make([]uint32, 0, len(files))
	for t := range files {
		tlis = append(tlis, t)
	}
	sort.Slice(tlis, func(i, j int) bool { return tlis[i] > tlis[j] })
	for _, t := range tlis {
		if t <= baseTLI {
			break
		}
		forks, ok := histories[t]
		if !ok {
			continue
		}
		if way, ok := wayThrough(t, forks, baseTLI, start); ok {
			return way
		}
	}
	return timelineWay{tli: baseTLI, begins: []timelineBegin{{tli: baseTLI}}}
}

// wayThrough builds the way to timeline t from its history when that
// history leaves the base's timeline after start.
func wayThrough(t uint32, forks []Fork, baseTLI uint32, start LSN) (timelineWay, bool) {
	for i, f := range forks {
		if f.Parent != baseTLI {
			continue
		}
		if f.Switch < start {
			return timelineWay{}, false
		}
		way := timelineWay{tli: t, begins: []timelineBegin{{tli: baseTLI}}}
		for j := i + 1; j < len(forks); j++ {
			way.begins = append(way.begins, timelineBegin{tli: forks[j].Parent, begin: forks[j-1].Switch})
		}
		way.begins = append(way.begins, timelineBegin{tli: t, begin: forks[len(forks)-1].Switch})
		return way, true
	}
	return timelineWay{}, false
}

// ParseSystemID reads a system identifier as the manifest records it.
func ParseSystemID(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("cannot parse system identifier %q: not a positive decimal number", s)
	}
	return n, nil
}
