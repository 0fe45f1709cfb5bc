package pitr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/store"
)

// Window is the span of time a restore to a time reaches from one base
// backup and its scope's log archive.
type Window struct {
	// Scope and JobID name the base backup; Prefix is its folder,
	// "<scope>/<job-id>", relative to the store.
	Scope  string      `json:"scope"`
	JobID  string      `json:"job-id"`
	Prefix string      `json:"-"`
	Engine engine.Kind `json:"engine"`
	// From is when the base was consistent (a MariaDB backup's end, a
	// physical backup's end of WAL), Until how far the archive reaches
	// from there without a gap.
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	// Timeline is the PostgreSQL timeline the window ends on, and Note
	// why it ends early (a gap in the WAL archive); a MariaDB window has
	// neither.
	Timeline uint32 `json:"timeline,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Holds reports whether a restore to t can use w.
func (w Window) Holds(t time.Time) bool { return !t.Before(w.From) && !t.After(w.Until) }

// String is "<scope>/<job-id> from .. until .." in UTC.
func (w Window) String() string {
	s := fmt.Sprintf("%s/%s from %s until %s", w.Scope, w.JobID, w.From.UTC().Format(time.RFC3339), w.Until.UTC().Format(time.RFC3339))
	if w.Timeline != 0 {
		s += fmt.Sprintf(" (timeline %d)", w.Timeline)
	}
	return s
}

// Base reports whether a backup can start a restore to a time: a complete
// MariaDB backup of one database that records its binary log position, or
// a complete physical PostgreSQL backup.
func Base(b artefact.Summary) bool {
	switch {
	case !b.Complete:
		return false
	case b.Engine == engine.MySQL:
		return b.Binlog != nil && len(b.Databases) == 1
	case b.Engine == engine.PostgreSQL:
		return b.Method == engine.MethodPhysical
	}
	return false
}

// Windows works out the window of every backup of backups (as
// artefact.List returns them, st rooted at the storage path) that can
// start a restore to a time, from its scope's archive: a MariaDB window
// from the listing of the binary logs, a PostgreSQL one from the base's
// manifest and the WAL archive (its timeline history files read with
// keys). A backup whose archive does not reach past it has no window.
// What cannot be worked out is returned as errors, and those backups get
// no window. The windows are in the order of backups.
func Windows(ctx context.Context, st store.Store, backups []artefact.Summary, keys artefact.Keys) ([]Window, []error) {
	var out []Window
	var errs []error
	binlogs := map[string]map[string]BinlogFile{}
	pg := map[string][]artefact.Summary{}
	var pgScopes []string
	for _, b := range backups {
		if !Base(b) {
			continue
		}
		if b.Engine == engine.PostgreSQL {
			if pg[b.Scope] == nil {
				pgScopes = append(pgScopes, b.Scope)
			}
			pg[b.Scope] = append(pg[b.Scope], b)
			continue
		}
		archived, seen := binlogs[b.Scope]
		if !seen {
			var err error
			if archived, err = (Archive{Store: st, Scope: b.Scope}).Binlogs().Files(ctx); err != nil {
				errs = append(errs, err)
			}
			binlogs[b.Scope] = archived
		}
		if until := reachedFrom(archived, *b.Binlog); until.After(b.FinishedAt) {
			out = append(out, Window{Scope: b.Scope, JobID: b.JobID, Prefix: b.Prefix, Engine: b.Engine,
				From: b.FinishedAt.UTC(), Until: until.UTC()})
		}
	}
	for _, scope := range pgScopes {
		ws, err := pgWindows(ctx, Archive{Store: st, Scope: scope, Keys: keys}, pg[scope])
		out = append(out, ws...)
		errs = append(errs, err...)
	}
	order := map[string]int{}
	for i, b := range backups {
		order[b.Prefix] = i
	}
	slices.SortStableFunc(out, func(a, b Window) int { return order[a.Prefix] - order[b.Prefix] })
	return out, errs
}

// pgWindows works out the windows of one scope's physical backups.
func pgWindows(ctx context.Context, a Archive, backups []artefact.Summary) ([]Window, []error) {
	var bases []engine.Physical
	var of []artefact.Summary
	var errs []error
	for _, b := range backups {
		m, err := artefact.ReadManifest(ctx, a.Store, b.Prefix)
		if err == nil && m.Engine.Physical == nil {
			err = errors.New("its manifest records no WAL position")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot read the WAL positions of %s: %w", b.Prefix, err))
			continue
		}
		bases = append(bases, *m.Engine.Physical)
		of = append(of, b)
	}
	if len(bases) == 0 {
		return nil, errs
	}
	ws, err := postgres.Windows(ctx, bases, a.WAL())
	if err != nil {
		return nil, append(errs, fmt.Errorf("cannot work out the recoverable windows of scope %s: %w", a.Scope, err))
	}
	var out []Window
	for i, w := range ws {
		if !w.To.After(w.From) && w.Problem == "" {
			continue // no WAL archived past the base: nothing to recover to but its end
		}
		b := of[i]
		out = append(out, Window{Scope: b.Scope, JobID: b.JobID, Prefix: b.Prefix, Engine: b.Engine,
			From: w.From.UTC(), Until: w.To.UTC(), Timeline: w.Timeline, Note: w.Problem})
	}
	return out, errs
}

// ErrOutside is wrapped when no window holds the time asked for.
var ErrOutside = errors.New("outside every recoverable window")

// Choose returns the window a restore of scope to t starts from: of the
// windows of scope that hold t, the one whose base is newest (the least
// log to replay). With none, the error wraps ErrOutside and names the
// scope's windows (at most five, the newest).
func Choose(ws []Window, scope string, t time.Time) (Window, error) {
	var best *Window
	var mine []Window
	for i, w := range ws {
		if w.Scope != scope {
			continue
		}
		mine = append(mine, w)
		if w.Holds(t) && (best == nil || w.From.After(best.From)) {
			best = &ws[i]
		}
	}
	if best != nil {
		return *best, nil
	}
	at := t.UTC().Format(time.RFC3339)
	if len(mine) == 0 {
		return Window{}, fmt.Errorf("cannot restore %s to %s: %w: it has none (a restore to a time needs a base backup and the logs archived after it)", scope, at, ErrOutside)
	}
	slices.SortFunc(mine, func(a, b Window) int { return b.From.Compare(a.From) })
	var names []string
	for _, w := range mine[:min(len(mine), 5)] {
		names = append(names, w.String())
	}
	more := ""
	if len(mine) > 5 {
		more = fmt.Sprintf(" and %d older", len(mine)-5)
	}
	return Window{}, fmt.Errorf("cannot restore %s to %s: %w: %s%s", scope, at, ErrOutside, strings.Join(names, "; "), more)
}
