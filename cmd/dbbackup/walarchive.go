package main

import (
	"context"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/store"
)

// walArchive keeps a scope's WAL files in the store through the shared
// log API (<scope>/_logs/wal/<name>): compressed, framed, checksummed
// and, with a key, encrypted like a backup.
type walArchive struct {
	st    store.Store
	scope string
	key   []byte
}

var _ postgres.WALArchive = walArchive{}

func (a walArchive) Put(ctx context.Context, name string, partial bool, r io.Reader) error {
	_, err := artefact.PutLog(ctx, a.st, artefact.LogFileOptions{Scope: a.scope, Stream: artefact.LogStreamWAL,
		Name: name, Partial: partial, Key: a.key}, r)
	return err
}

func (a walArchive) List(ctx context.Context) ([]postgres.WALFile, error) {
	logs, err := artefact.ListLogs(ctx, a.st, a.scope, artefact.LogStreamWAL)
	if err != nil {
		return nil, err
	}
	out := make([]postgres.WALFile, len(logs))
	for i, l := range logs {
		out[i] = postgres.WALFile{Name: l.Name, Partial: l.Partial, ModTime: l.ModTime}
	}
	return out, nil
}

func (a walArchive) Get(ctx context.Context, name string, partial bool, w io.Writer) error {
	_, err := artefact.GetLog(ctx, a.st, a.scope, artefact.LogStreamWAL, name, partial, a.key, w)
	return err
}
