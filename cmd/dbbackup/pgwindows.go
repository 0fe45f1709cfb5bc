package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/store"
)

// addPGWindows sets the recoverable window of every complete physical
// PostgreSQL backup in rows, scope by scope, from the scope's WAL
// archive. It returns what it could not work out; those rows keep no
// window.
func addPGWindows(ctx context.Context, st store.Store, rows []listedBackup, key []byte) []error {
	byScope := map[string][]int{}
	var scopes []string
	for i, r := range rows {
		if r.Complete && r.Engine == engine.PostgreSQL && r.Method == engine.MethodPhysical {
			if byScope[r.Scope] == nil {
				scopes = append(scopes, r.Scope)
			}
			byScope[r.Scope] = append(byScope[r.Scope], i)
		}
	}
	var errs []error
	for _, scope := range scopes {
		var bases []engine.Physical
		var at []int
		for _, i := range byScope[scope] {
			m, err := artefact.ReadManifest(ctx, st, rows[i].Prefix)
			if err != nil || m.Engine.Physical == nil {
				errs = append(errs, fmt.Errorf("cannot read the WAL positions of %s: %v", rows[i].ArtefactPath, err))
				continue
			}
			bases = append(bases, *m.Engine.Physical)
			at = append(at, i)
		}
		ws, err := postgres.Windows(ctx, bases, walArchive{st: st, scope: scope, key: key})
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot work out the recoverable windows of scope %s: %w", scope, err))
			continue
		}
		for j, i := range at {
			w := ws[j]
			rows[i].Recoverable = &window{From: w.From.UTC(), Until: w.To.UTC(), Timeline: w.Timeline, Note: w.Problem}
		}
	}
	return errs
}

// printPGWindows prints the recoverable windows of physical PostgreSQL
// backups, if any has one.
func printPGWindows(w io.Writer, rows []listedBackup) {
	var any bool
	for _, r := range rows {
		any = any || (r.Recoverable != nil && r.Recoverable.Timeline != 0)
	}
	if !any {
		return
	}
	fmt.Fprintln(w, "\nRecoverable windows (restore --pgdata DIR --restore-to-time T):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ARTEFACT PATH\tFROM\tTO\tTIMELINE\tNOTE")
	for _, r := range rows {
		if r.Recoverable == nil || r.Recoverable.Timeline == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.ArtefactPath, r.Recoverable.From.Format(time.RFC3339),
			r.Recoverable.Until.Format(time.RFC3339), r.Recoverable.Timeline, orDash(r.Recoverable.Note))
	}
	tw.Flush()
}
