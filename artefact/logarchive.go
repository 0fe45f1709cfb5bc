package artefact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/store"
)

// Archived log files: the continuous logs point-in-time recovery replays
// (PostgreSQL's WAL segments and timeline history files, MariaDB's binary
// logs), one stored object per file, beside a scope's backups:
//
//	<scope>/_logs/<stream>/<name>           a complete file
//	<scope>/_logs/<stream>/<name>.partial   the file still being written
//
// Each object is self-contained and written in one Put, so it is replaced
// atomically: the part container (frame.go) holding the file compressed with
// zstd, followed by a final frame that holds only the trailer, a small JSON
// record naming the scope, the stream, the file and whether it is partial,
// with its raw size and SHA-256. The trailer is sealed like every frame (so
// under a key it is authenticated, and an object moved to another name, or
// a partial passed off as complete, is refused), and it is read last, so a
// reader checks the whole file before it reports success.
//
// How files of a stream follow each other (segment numbers, timelines, the
// binary log index, GTIDs) is the engine's business; this file only stores,
// lists, verifies and deletes files. A binary log file is stored as several
// of these files, its pieces, each named with its offset (pitr/binpiece.go),
// so that the trailer binds the offset too.

// Log streams.
const (
	// LogStreamWAL holds PostgreSQL WAL segments and timeline history files.
	LogStreamWAL = "wal"
	// LogStreamBinlog holds MariaDB/MySQL binary logs.
	LogStreamBinlog = "binlog"
)

// LogsDir is the folder, beside a scope's backup folders, holding its
// archived log files. Job ids never start with "_", so it is never a backup.
const LogsDir = "_logs"

// partialSuffix ends the object name of a file still being written.
const partialSuffix = ".partial"

// logTrailerFormat names the trailer's format.
const (
	logTrailerFormat  = "dbbackup-log-file"
	logTrailerVersion = 1
	maxLogTrailer     = 4 << 10
)

// LogFile describes one archived file of a continuous log.
type LogFile struct {
	// Scope, Stream and Name say which file: Name is the server's own file
	// name, such as "000000010000000000000003", "00000002.history" or
	// "mariadb-bin.000007".
	Scope, Stream, Name string
	// Partial marks a file still being written, uploaded as it grows
	// (each upload replaces the last).
	Partial bool
	// Key is the object's key relative to the store's root.
	Key string
	// Stored is the stored object's size.
	Stored int64
	// ModTime is when the object was written, as the store reports it.
	ModTime time.Time
	// Size, Digest (hex SHA-256 of the raw bytes), Created (when it was
	// archived) and Encrypted are known after PutLog, GetLog or VerifyLog;
	// a listing leaves them zero.
	Size      int64
	Digest    string
	Created   time.Time
	Encrypted bool
}

// LogFileOptions says what PutLog stores.
type LogFileOptions struct {
	Scope, Stream, Name string
	// Partial uploads a file still being written.
	Partial bool
	// Key encrypts the file (AES-256-GCM); nil stores it unencrypted,
	// sealed with CRC-32C.
	Key []byte
}

// logTrailer is the last frame of an archived log file.
type logTrailer struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Scope       string    `json:"scope"`
	Stream      string    `json:"stream"`
	Name        string    `json:"name"`
	Partial     bool      `json:"partial"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Compression string    `json:"compression"`
	Created     time.Time `json:"created"`
}

// LogKey returns the object key of an archived log file, validating its
// scope, stream and name.
func LogKey(scope, stream, name string, partial bool) (string, error) {
	if err := CheckScope(scope); err != nil {
		return "", err
	}
	if stream != LogStreamWAL && stream != LogStreamBinlog {
		return "", fmt.Errorf("log stream %q: must be %q or %q", stream, LogStreamWAL, LogStreamBinlog)
	}
	if !namePattern.MatchString(name) || strings.HasSuffix(name, partialSuffix) {
		return "", fmt.Errorf("log file name %q: must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, not ending in %q", name, partialSuffix)
	}
	key := logsFolder(scope, stream) + name
	if partial {
		key += partialSuffix
	}
	return key, nil
}

// logsFolder is the folder of one stream of a scope.
func logsFolder(scope, stream string) string {
	return scope + "/" + LogsDir + "/" + stream + "/"
}

// PutLog streams r, the whole file, into the store as one self-contained
// object replaced atomically (see the top of this file). Putting a complete
// file deletes its ".partial" object afterwards. It never holds the whole
// file in memory.
func PutLog(ctx context.Context, st store.Store, f LogFileOptions, r io.Reader) (LogFile, error) {
	key, err := LogKey(f.Scope, f.Stream, f.Name, f.Partial)
	if err != nil {
		return LogFile{}, err
	}
	if f.Key != nil && len(f.Key) != KeySize {
		return LogFile{}, fmt.Errorf("encryption key: must be %d bytes, not %d", KeySize, len(f.Key))
	}
	out := LogFile{Scope: f.Scope, Stream: f.Stream, Name: f.Name, Partial: f.Partial, Key: key,
		Created: time.Now().UTC().Truncate(time.Second), Encrypted: f.Key != nil}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := writeLogObject(pw, f, r, &out)
		pw.CloseWithError(err)
		done <- err
	}()
	obj, putErr := st.Put(ctx, key, pr, store.PutOptions{})
	pr.CloseWithError(errAborted)
	writeErr := <-done
	if writeErr != nil && !errors.Is(writeErr, errAborted) && !errors.Is(writeErr, io.ErrClosedPipe) {
		return LogFile{}, fmt.Errorf("cannot archive %s: %w", key, writeErr)
	}
	if putErr != nil {
		return LogFile{}, fmt.Errorf("cannot archive %s: %w", key, putErr)
	}
	if writeErr != nil {
		return LogFile{}, fmt.Errorf("cannot archive %s: %w", key, writeErr)
	}
	out.Stored, out.ModTime = obj.Size, obj.ModTime
	if !f.Partial {
		if err := st.Delete(ctx, key+partialSuffix); err != nil {
			return out, fmt.Errorf("archived %s but cannot delete its partial upload: %w", key, err)
		}
	}
	return out, nil
}

// writeLogObject writes the object of an archived log file to w: the
// compressed file in frames, then the trailer as the final frame.
func writeLogObject(w io.Writer, f LogFileOptions, r io.Reader, out *LogFile) error {
	fw, err := newFrameWriter(w, f.Key, DefaultFrameSize)
	if err != nil {
		return err
	}
	comp, err := newCompressor(fw)
	if err != nil {
		return err
	}
	raw := newDigest()
	if _, err := io.Copy(teeWriter{w: comp, d: raw}, r); err != nil {
		return fmt.Errorf("cannot read the file: %w", err)
	}
	if err := comp.Close(); err != nil {
		return err
	}
	out.Size, out.Digest = raw.n, raw.sum()
	t, err := json.Marshal(logTrailer{Format: logTrailerFormat, Version: logTrailerVersion,
		Scope: f.Scope, Stream: f.Stream, Name: f.Name, Partial: f.Partial,
		Size: out.Size, SHA256: out.Digest, Compression: CompressionZstd, Created: out.Created})
	if err != nil {
		return err
	}
	return fw.closeWith(t)
}
