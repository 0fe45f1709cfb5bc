package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
)

// window is a span of time a restore to a time can reach.
type window struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	// Timeline is the PostgreSQL timeline a physical backup's window is
	// on, and Note why it ends early (a gap in the WAL archive); a
	// MariaDB window has neither.
	Timeline uint32 `json:"timeline,omitempty"`
	Note     string `json:"note,omitempty"`
}

// scopeWindow is a window of one scope, as list prints it.
type scopeWindow struct {
	Scope string `json:"scope"`
	window
}

// addWindows sets the recoverable window of every backup of rows that
// can start a restore to a time (pitr.Windows) and returns what it could
// not work out; those rows keep no window.
func addWindows(ctx context.Context, st store.Store, rows []listedBackup, key []byte) []error {
	sums := make([]artefact.Summary, len(rows))
	at := map[string]int{}
	for i, r := range rows {
		sums[i], at[r.Prefix] = r.Summary, i
	}
	var keys artefact.Keys
	if key != nil {
		keys = artefact.Keys{key}
	}
	ws, errs := pitr.Windows(ctx, st, sums, keys)
	for _, w := range ws {
		rows[at[w.Prefix]].Recoverable = &window{From: w.From, Until: w.Until, Timeline: w.Timeline, Note: w.Note}
	}
	return errs
}

// mergedWindows returns each scope's windows, overlapping ones merged,
// by scope and time.
func mergedWindows(rows []listedBackup) []scopeWindow {
	var ws []scopeWindow
	for _, r := range rows {
		// Windows on PostgreSQL timelines are not merged: the same time
		// may be on two of them (printPGWindows).
		if r.Recoverable != nil && r.Recoverable.Timeline == 0 {
			ws = append(ws, scopeWindow{Scope: r.Scope, window: *r.Recoverable})
		}
	}
	sort.Slice(ws, func(i, j int) bool {
		if ws[i].Scope != ws[j].Scope {
			return ws[i].Scope < ws[j].Scope
		}
		return ws[i].From.Before(ws[j].From)
	})
	var out []scopeWindow
	for _, w := range ws {
		if n := len(out); n > 0 && out[n-1].Scope == w.Scope && !w.From.After(out[n-1].Until) {
			if w.Until.After(out[n-1].Until) {
				out[n-1].Until = w.Until
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// printWindows prints the recoverable windows, when there are any.
func printWindows(w io.Writer, rows []listedBackup) {
	ws := mergedWindows(rows)
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(w, "\nRecoverable windows (restore --restore-to-time, from a backup and the archived binary logs):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCOPE\tFROM\tUNTIL")
	for _, s := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Scope, s.From.Format(time.RFC3339), s.Until.Format(time.RFC3339))
	}
	tw.Flush()
}
