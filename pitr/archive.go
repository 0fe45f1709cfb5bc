package pitr

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/store"
)

// Archive is one scope's log archive in a store rooted at the storage
// path: <scope>/_logs/<stream>/<name>[.partial] (binary log files in
// pieces, binpiece.go), each compressed, framed, checksummed and, with a
// key, encrypted like a backup.
type Archive struct {
	Store store.Store
	Scope string
	// Key encrypts what is stored; nil stores it unencrypted.
	Key []byte
	// Keys are the other keys a read tries, after Key, on a file
	// encrypted with another (an older key of a rotated secret).
	Keys artefact.Keys
}

// Binlogs is the archive's MariaDB binary logs.
func (a Archive) Binlogs() BinlogArchive { return BinlogArchive{a} }

// WAL is the archive's PostgreSQL WAL.
func (a Archive) WAL() WALArchive { return WALArchive{a} }

// BinlogArchive stores a scope's binary logs (stream binlog).
type BinlogArchive struct{ a Archive }

// WALArchive stores a scope's WAL files (stream wal).
type WALArchive struct{ a Archive }

var (
	_ mysql.BinlogSink    = BinlogArchive{}
	_ postgres.WALArchive = WALArchive{}
)

func (a Archive) put(ctx context.Context, stream, name string, partial bool, r io.Reader) error {
	_, err := artefact.PutLog(ctx, a.Store, artefact.LogFileOptions{
		Scope: a.Scope, Stream: stream, Name: name, Partial: partial, Key: a.Key}, r)
	return err
}

// get reads one file with the first key that opens it. A log file does
// not name its key: one encrypted with another key fails to authenticate
// at its first frame, before anything is written to w, and the next key
// is tried; a failure after a byte was written is final.
func (a Archive) get(ctx context.Context, stream, name string, partial bool, w io.Writer) (artefact.LogFile, error) {
	keys := a.Keys
	if a.Key != nil {
		keys = append(artefact.Keys{a.Key}, keys...)
	}
	if len(keys) == 0 {
		keys = artefact.Keys{nil}
	}
	cw := &countingWriter{w: w}
	var lf artefact.LogFile
	var err error
	for _, k := range keys {
		lf, err = artefact.GetLog(ctx, a.Store, a.Scope, stream, name, partial, k, cw)
		if cw.n > 0 || !(errors.Is(err, artefact.ErrWrongKey) || errors.Is(err, artefact.ErrCorrupt)) {
			return lf, err
		}
	}
	if len(keys) > 1 && errors.Is(err, artefact.ErrCorrupt) {
		err = fmt.Errorf("%w (tried %d keys)", err, len(keys))
	}
	return lf, err
}

// countingWriter counts what reaches w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Archived lists the stored objects of the scope's binary logs.
func (b BinlogArchive) Archived(ctx context.Context) ([]mysql.BinlogPiece, error) {
	logs, err := artefact.ListLogs(ctx, b.a.Store, b.a.Scope, artefact.LogStreamBinlog)
	if err != nil {
		return nil, err
	}
	var out []mysql.BinlogPiece
	for _, lf := range logs {
		if p, ok := parsePiece(lf); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Put stores one piece of a binary log file.
func (b BinlogArchive) Put(ctx context.Context, p mysql.BinlogPiece, r io.Reader) error {
	name, partial, err := logName(p)
	if err != nil {
		return err
	}
	return b.a.put(ctx, artefact.LogStreamBinlog, name, partial, r)
}

// Delete removes one stored object of a binary log file.
func (b BinlogArchive) Delete(ctx context.Context, p mysql.BinlogPiece) error {
	name, partial, err := logName(p)
	if err != nil {
		return err
	}
	return artefact.DeleteLog(ctx, b.a.Store, b.a.Scope, artefact.LogStreamBinlog, name, partial)
}

// Put stores one WAL file.
func (w WALArchive) Put(ctx context.Context, name string, partial bool, r io.Reader) error {
	return w.a.put(ctx, artefact.LogStreamWAL, name, partial, r)
}

// List lists the scope's WAL files.
func (w WALArchive) List(ctx context.Context) ([]postgres.WALFile, error) {
	logs, err := artefact.ListLogs(ctx, w.a.Store, w.a.Scope, artefact.LogStreamWAL)
	if err != nil {
		return nil, err
	}
	out := make([]postgres.WALFile, len(logs))
	for i, l := range logs {
		out[i] = postgres.WALFile{Name: l.Name, Partial: l.Partial, ModTime: l.ModTime}
	}
	return out, nil
}

// Get reads one WAL file, verified, into wr.
func (w WALArchive) Get(ctx context.Context, name string, partial bool, wr io.Writer) error {
	_, err := w.a.get(ctx, artefact.LogStreamWAL, name, partial, wr)
	return err
}
