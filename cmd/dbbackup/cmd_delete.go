package main

import (
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
)

const deleteAbout = `
Deletes exactly one backup (complete or incomplete): the objects directly in
its folder <...>/<scope>/<job-id>/ and its index entry, manifest first, so
that a deletion cut short leaves an incomplete backup, never a complete one
with missing parts (run delete again to finish it). A folder that holds
folders (a scope, a storage path, other backups) is refused, and so is one
without a backup's started.json or manifest.json.

Exit codes: 0 deleted; 1 no backup at the path, not one backup, or the store
refused; 2 unusable command line (a missing or
invalid flag, an argument, a storage configuration that cannot be read or
is too large).`

func runDelete(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("delete", "--storage-config FILE --artefact-path P", deleteAbout, stderr)
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	path := fs.String("artefact-path", "", "the backup's artefact path (required)")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	st, prefix, _, code := openArtefact(*cfgPath, *path, "", stderr, "delete")
	if code >= 0 {
		return code
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := artefact.Delete(ctx, st, prefix); err != nil {
		fmt.Fprintf(stderr, "dbbackup delete: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "deleted %s\n", *path)
	return exitOK
}
