package main

import (
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/store/s3"
)

// openArtefact opens the store at the bucket's root (an artefact path holds
// the storage path already), cleans the artefact path and reads the key.
// It returns an exit code >= 0 when the caller must stop.
func openArtefact(cfgPath, path, keyFile string, stderr io.Writer, cmd string) (*s3.Store, string, []byte, int) {
	cfg, err := readStorageConfig(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup %s: %v\n", cmd, err)
		return nil, "", nil, exitUsage
	}
	ref, err := artefact.ParseRef(path)
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup %s: --%v\n", cmd, err)
		return nil, "", nil, exitUsage
	}
	var key []byte
	if keyFile != "" {
		if key, err = artefact.ReadKeyFile(keyFile); err != nil {
			fmt.Fprintf(stderr, "dbbackup %s: %v\n", cmd, err)
			return nil, "", nil, exitUsage
		}
	}
	st, err := s3.NewRoot(cfg, s3.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "dbbackup %s: %v\n", cmd, err)
		return nil, "", nil, exitUsage
	}
	return st, ref.Path(), key, -1
}
