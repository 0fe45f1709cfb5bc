package main

import (
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
)

const verifyAbout = `
Checks a backup without a database: its manifest, that the key opens it,
and every frame and checksum of every part.

Exit codes: 0 the backup is complete and intact; 1 there is no backup at
the path, it is incomplete (no manifest: failed, killed or still running),
damaged, or the key is wrong (the message says which); 2 unusable command
line (a missing or invalid flag, an argument, a storage configuration or
key file that cannot be read or is too large).`

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("verify", "--storage-config FILE --artefact-path P [--encryption-key-file F]", verifyAbout, stderr)
	cfgPath := fs.String("storage-config", "", "YAML or JSON file with the s3 interface's fields (required)")
	path := fs.String("artefact-path", "", "the backup's artefact path, as backup printed it (required)")
	keyFile := fs.String("encryption-key-file", "", "file holding the key of an encrypted backup")
	if code := parseFlags(fs, args, stdout); code >= 0 {
		return code
	}
	st, prefix, key, code := openArtefact(*cfgPath, *path, *keyFile, stderr, "verify")
	if code >= 0 {
		return code
	}
	ctx, cancel := signalContext()
	defer cancel()
	m, err := artefact.Verify(ctx, st, prefix, key)
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup verify: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "ok: %s: %s %s backup of %d bytes (%d stored), %d part(s), checksums match\n",
		*path, m.Engine.Kind, m.Engine.Method, m.RawBytes, m.StoredBytes, len(m.Parts))
	return exitOK
}
