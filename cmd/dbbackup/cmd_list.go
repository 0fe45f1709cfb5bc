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
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/store"
)

const listAbout = `
Lists the backups under the storage configuration's path, newest first:
complete ones (with a manifest) and incomplete ones (a backup that failed or
was killed midway; never restorable). Two flat listings per scope find
them at once: the backup folders, and the cards, folders whose names carry
each complete backup's summary, so no object is read. A backup without a card (one killed
between its manifest and its card, or written by a dbbackup before cards)
is read from its index entry or its folder, and its card is written.

Unfinished uploads are listed too: the parts of an object that a backup
killed or failed midway was uploading. No listing of objects shows them, yet
they are stored (and paid for) until aborted; the backup manager's retention
aborts those of backups that ended. The table counts them; --json gives
each one (key, upload id, initiated time) in its backup's entry.

A MariaDB backup with a binary log position, whose scope's binary logs
archive-binlog archives, can be restored to any second from its end until
the time the archive's last file of the unbroken run from its position
was stored: the table is followed by these recoverable windows, merged
per scope, and --json gives each backup's window ("recoverable"). The
windows are judged from the listing; the restore checks every file.

For physical PostgreSQL backups it shows the recoverable window of each:
from the moment the base was consistent to the newest WAL archived after
it by 'dbbackup archive-wal' without a gap ("recoverable" in
--json, with its timeline and a note), and why a window ends early (a missing segment). Reading the
timeline history of an encrypted WAL archive needs its key
(--encryption-key-file).

Exit codes: 0 listed; 1 the store could not be listed; 2 unusable command
line (a missing or invalid flag, an argument, a storage configuration that
cannot be read or is too large).`

func runList(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("list", "--storage-config FILE [--scope NAME] [--json]", listAbout, stderr)
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	scope := fs.String("scope", "", "list only this scope (a database application)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	keyFile := fs.String("encryption-key-file", "", "the key of an encrypted WAL archive, to read its timeline history for the recoverable windows")
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
	var key []byte
	if *keyFile != "" {
		if key, err = artefact.ReadKeyFile(*keyFile); err != nil {
			return usageError(stderr, "list", err)
		}
	}
	ctx, cancel := signalContext()
	defer cancel()
	backups, err := artefact.List(ctx, st, artefact.ListOptions{Scope: *scope, Repair: true})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup list: %v\n", secret.Guard(err, cfg.Secrets()))
		return exitFail
	}
	rows := make([]listedBackup, len(backups))
	for i, b := range backups {
		rows[i] = listedBackup{ArtefactPath: b.Ref().Under(cfg.Path).Path(), Summary: b}
	}
	prefix := ""
	if *scope != "" {
		prefix = artefact.ScopeFolder(*scope)
	}
	ups, err := artefact.Uploads(ctx, st, prefix)
	if err != nil {
		// The backups were listed; a store that refuses to list uploads
		// (a policy without s3:ListBucketMultipartUploads) does not hide them.
		fmt.Fprintf(stderr, "dbbackup list: %v\n", secret.Guard(err, cfg.Secrets()))
	}
	rows, outside := addUploads(rows, ups, cfg.Path)
	for _, err := range addWindows(ctx, st, rows, key) {
		fmt.Fprintf(stderr, "dbbackup list: %v\n", secret.Guard(err, cfg.Secrets()))
	}
	for _, u := range outside {
		fmt.Fprintf(stderr, "dbbackup list: unfinished upload %s (id %s, initiated %s) is outside any backup folder\n",
			u.Key, u.ID, u.Initiated.UTC().Format(time.RFC3339))
	}
	if *asJSON {
		return writeJSON(stdout, rows)
	}
	printBackups(stdout, rows)
	printUploads(stdout, rows, len(outside))
	printWindows(stdout, rows)
	printPGWindows(stdout, rows)
	return exitOK
}

// listedBackup is a backup as list prints it: with the artefact path that
// restore, verify and delete take (the storage path included), and the
// unfinished uploads under its folder.
type listedBackup struct {
	ArtefactPath string `json:"artefact-path"`
	artefact.Summary
	Uploads []listedUpload `json:"unfinished-uploads,omitempty"`
	// Recoverable is the span a restore to a time can reach from this
	// backup and the scope's archived binary logs (MariaDB) or WAL
	// (a physical PostgreSQL backup).
	Recoverable *window `json:"recoverable,omitempty"`
}

// listedUpload is an unfinished upload as list prints it: its key in the
// bucket (the storage path included), its id and when it started.
type listedUpload struct {
	Key       string    `json:"key"`
	ID        string    `json:"upload-id"`
	Initiated time.Time `json:"initiated"`
}

// addUploads files each upload under the backup whose folder holds it; a
// folder that holds only uploads (a backup killed before its first object)
// gets an incomplete entry of its own, after the others. It returns the
// uploads outside any backup folder apart, with their keys in the bucket.
func addUploads(rows []listedBackup, ups []store.Upload, storagePath string) ([]listedBackup, []store.Upload) {
	at := map[string]int{}
	for i, r := range rows {
		at[r.Prefix] = i
	}
	var outside []store.Upload
	for _, u := range ups {
		key := artefact.InBucket(storagePath, u.Key)
		ref, ok := artefact.RefOf(u.Key)
		if !ok {
			u.Key = key
			outside = append(outside, u)
			continue
		}
		folder := ref.Path()
		i, ok := at[folder]
		if !ok {
			rows = append(rows, listedBackup{ArtefactPath: ref.Under(storagePath).Path(),
				Summary: artefact.Summary{Scope: ref.Scope, JobID: ref.JobID, Prefix: folder, LastModified: u.Initiated}})
			i = len(rows) - 1
			at[folder] = i
		}
		rows[i].Uploads = append(rows[i].Uploads, listedUpload{Key: key, ID: u.ID, Initiated: u.Initiated})
	}
	return rows, outside
}

// printUploads counts the unfinished uploads and names the backups that
// hold them.
func printUploads(w io.Writer, rows []listedBackup, outside int) {
	n := outside
	var paths []string
	for _, r := range rows {
		if len(r.Uploads) > 0 {
			n += len(r.Uploads)
			paths = append(paths, r.ArtefactPath)
		}
	}
	if n == 0 {
		return
	}
	noun := "uploads"
	if n == 1 {
		noun = "upload"
	}
	fmt.Fprintf(w, "%d unfinished %s (parts still stored; --json lists them)", n, noun)
	if len(paths) > 0 {
		fmt.Fprintf(w, " in %s", strings.Join(paths, ", "))
	}
	fmt.Fprintln(w)
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
