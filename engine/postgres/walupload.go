package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// uploader puts what pg_receivewal finished into the archive.
type uploader struct {
	spool string
	arch  WALArchive
	log   io.Writer
	// uploaded names the finished segment kept in the spool after its
	// upload (see flush).
	uploaded map[string]bool
	// sent records the partial segment last uploaded, by size and time.
	sentName string
	sentMod  time.Time
	sentSize int64
	// endName and endOff are the newest file uploaded and how far (-1:
	// whole), the end of the archive (archivedEnd); pendingSince is when
	// the oldest WAL not uploaded yet was seen (zero: none).
	endName      string
	endOff       int64
	pendingSince time.Time
}

// flush uploads every finished file of the spool, in name order (history
// files first), removing each after its upload but the newest segment;
// with partial, the segment being written too, when it changed since its
// last upload.
func (u *uploader) flush(ctx context.Context, partial bool) error {
	start := time.Now()
	ents, err := os.ReadDir(u.spool)
	if err != nil {
		return fmt.Errorf("cannot read the WAL spool %s: %w", u.spool, err)
	}
	var finished, partials []string
	for _, e := range ents {
		n := e.Name()
		switch {
		case historyName.MatchString(n) || segmentName.MatchString(n):
			finished = append(finished, n)
		case strings.HasSuffix(n, ".partial") && segmentName.MatchString(strings.TrimSuffix(n, ".partial")):
			partials = append(partials, n)
		}
	}
	sort.Slice(finished, func(i, j int) bool {
		hi, hj := strings.HasSuffix(finished[i], ".history"), strings.HasSuffix(finished[j], ".history")
		if hi != hj {
			return hi
		}
		return finished[i] < finished[j]
	})
	// The newest finished segment stays in the spool once archived:
	// pg_receivewal starts after the newest segment it finds there. Only
	// from PostgreSQL 15 does it otherwise start at the slot's position;
	// an older one would start at the server's current position and leave
	// a gap.
	newest := ""
	for _, n := range finished {
		if segmentName.MatchString(n) {
			newest = n
		}
		if !u.uploaded[n] {
			u.notePending(start)
		}
	}
	for _, n := range finished {
		if !u.uploaded[n] {
			if err := u.put(ctx, n, n, false); err != nil {
				return err
			}
		}
		if n == newest {
			u.uploaded = map[string]bool{n: true}
			continue
		}
		if err := os.Remove(filepath.Join(u.spool, n)); err != nil {
			return fmt.Errorf("cannot remove archived %s from the spool: %w", n, err)
		}
	}
	sort.Strings(partials)
	changed := false
	for _, p := range partials {
		fi, err := os.Stat(filepath.Join(u.spool, p))
		if errors.Is(err, os.ErrNotExist) {
			changed = true // finished meanwhile: the next flush uploads it
			continue
		}
		if err != nil {
			return fmt.Errorf("cannot read %s in the spool: %w", p, err)
		}
		if p == u.sentName && fi.ModTime().Equal(u.sentMod) && fi.Size() == u.sentSize {
			continue
		}
		u.notePending(start)
		if !partial {
			continue
		}
		if err := u.put(ctx, p, strings.TrimSuffix(p, ".partial"), true); err != nil {
			return err
		}
		u.sentName, u.sentMod, u.sentSize = p, fi.ModTime(), fi.Size()
		if fi, err := os.Stat(filepath.Join(u.spool, p)); err != nil || !fi.ModTime().Equal(u.sentMod) {
			changed = true // written to while uploaded
		}
	}
	if partial {
		// Everything received before start is uploaded; what came since
		// was received after start, at the earliest.
		u.pendingSince = time.Time{}
		if changed {
			u.pendingSince = start
		}
	}
	return nil
}

// put uploads the spool's file as name.
func (u *uploader) put(ctx context.Context, file, name string, partial bool) error {
	f, err := os.Open(filepath.Join(u.spool, file))
	if errors.Is(err, os.ErrNotExist) && partial {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read %s in the spool: %w", file, err)
	}
	defer f.Close()
	r := &endReader{r: f}
	if err := u.arch.Put(ctx, name, partial, r); err != nil {
		return fmt.Errorf("cannot archive %s%s: %w", name, partialNote(partial), err)
	}
	if segmentName.MatchString(name) {
		end := int64(-1)
		if partial {
			end = r.end
		}
		u.noteUploaded(name, end)
	}
	logf(u.log, "dbbackup: archived %s%s", name, partialNote(partial))
	return nil
}
