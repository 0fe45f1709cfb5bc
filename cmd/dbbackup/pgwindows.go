package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

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
