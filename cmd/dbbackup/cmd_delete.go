package main

import (
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
)

const deleteAbout = `
Deletes every object of one backup (complete or incomplete), manifest first,
so that a deletion cut short leaves an incomplete backup, never a complete
one with missing parts.

Exit codes: 0 deleted; 1 the store refused; 2 unusable arguments.`

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
