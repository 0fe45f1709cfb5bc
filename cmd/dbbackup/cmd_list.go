package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/bytesize"
)

const listAbout = `
Lists the backups under the storage configuration's path, newest first:
complete ones (with a manifest) and incomplete ones (a backup that failed or
was killed midway; never restorable). One listing of the bucket finds them;
manifests are read only when the scope's catalog.json cache lacks them, and
the cache is brought up to date.

Exit codes: 0 listed; 1 the store could not be listed; 2 unusable command
line (a missing or invalid flag, an argument, a storage configuration that
cannot be read or is too large).`

func runList(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("list", "--storage-config FILE [--scope NAME] [--json]", listAbout, stderr)
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	scope := fs.String("scope", "", "list only this scope (a database application)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	if *scope != "" {
		if err := checkScope(*scope); err != nil {
			return usageError(stderr, "list", err)
		}
	}
	st, cfg, err := openStore(*cfgPath)
	if err != nil {
		return usageError(stderr, "list", err)
	}
	ctx, cancel := signalContext()
	defer cancel()
	backups, err := artefact.List(ctx, st, artefact.ListOptions{Scope: *scope, UpdateCatalog: true})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup list: %v\n", scrub(err.Error(), cfg.Secrets()))
		return exitFail
	}
	rows := make([]listedBackup, len(backups))
	for i, b := range backups {
		rows[i] = listedBackup{ArtefactPath: artefact.ArtefactPath(cfg.Path, b.Prefix), Summary: b}
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	printBackups(stdout, rows)
	return exitOK
}

// listedBackup is a backup as list prints it: with the artefact path that
// restore, verify and delete take (the storage path included).
type listedBackup struct {
	ArtefactPath string `json:"artefact-path"`
	artefact.Summary
}

func printBackups(w io.Writer, backups []listedBackup) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ARTEFACT PATH\tENGINE\tSTATE\tSIZE\tDURATION\tFINISHED\tDATABASES")
	for _, b := range backups {
		state, dur, fin := "complete", b.Duration().Round(time.Millisecond).String(), b.FinishedAt.UTC().Format(time.RFC3339)
		if !b.Complete {
			state, dur, fin = "incomplete", "-", b.LastModified.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ArtefactPath, orDash(string(b.Engine)), state, humanBytes(b.StoredBytes), dur, fin, orDash(strings.Join(b.Databases, ",")))
	}
	tw.Flush()
	if len(backups) == 0 {
		fmt.Fprintln(w, "(no backups)")
	}
}

func writeJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return exitFail
	}
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanBytes formats a size with binary units.
func humanBytes(n int64) string { return bytesize.IEC(n) }

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signalNotifyContext(context.Background())
}
