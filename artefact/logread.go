package artefact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dbbackup/dbbackup/store"
	"github.com/klauspost/compress/zstd"
)

// GetLog streams an archived log file to w, each frame verified before its
// bytes are written, and checks the trailer (scope, stream, name, partial,
// raw size and SHA-256) at the end. A damaged, truncated or foreign object
// gives an error wrapping ErrCorrupt (ErrNotAuthentic when a key is given
// and the object does not prove it was written with it); a key given for an
// unencrypted file, or none for an encrypted one, gives ErrWrongKey. A
// missing object gives an error wrapping store.ErrNotFound. Bytes already
// written to w before an error are not to be trusted: callers write to a
// temporary file and keep it only on success.
func GetLog(ctx context.Context, st store.Store, scope, stream, name string, partial bool, key []byte, w io.Writer) (LogFile, error) {
	objKey, err := LogKey(scope, stream, name, partial)
	if err != nil {
		return LogFile{}, err
	}
	if key != nil && len(key) != KeySize {
		return LogFile{}, fmt.Errorf("encryption key: must be %d bytes, not %d", KeySize, len(key))
	}
	body, err := st.Get(ctx, objKey)
	if err != nil {
		return LogFile{}, fmt.Errorf("cannot read archived log file %s: %w", objKey, err)
	}
	defer body.Close()
	out := LogFile{Scope: scope, Stream: stream, Name: name, Partial: partial, Key: objKey, Encrypted: key != nil}
	stored := newDigest()
	t, size, digest, err := readLogObject(teeReader{r: body, d: stored}, key, w)
	if err != nil {
		return LogFile{}, fmt.Errorf("archived log file %s: %w", objKey, err)
	}
	switch {
	case t.Format != logTrailerFormat || t.Version != logTrailerVersion:
		err = fmt.Errorf("its trailer is not a version %d %s record", logTrailerVersion, logTrailerFormat)
	case t.Scope != scope || t.Stream != stream || t.Name != name || t.Partial != partial:
		err = fmt.Errorf("it holds %s (scope %q, stream %q, partial %t), not this file", t.Name, t.Scope, t.Stream, t.Partial)
	case t.Compression != CompressionZstd:
		err = fmt.Errorf("compression %q is not supported", t.Compression)
	case t.Size != size || t.SHA256 != digest:
		err = fmt.Errorf("its content (%d bytes, sha256 %s) is not what its trailer records (%d bytes, sha256 %s)", size, digest, t.Size, t.SHA256)
	}
	if err != nil {
		return LogFile{}, fmt.Errorf("archived log file %s: %v: %w", objKey, err, ErrCorrupt)
	}
	out.Size, out.Digest, out.Created, out.Stored = size, digest, t.Created, stored.n
	return out, nil
}

// readLogObject reads an archived log object from r: the decompressed file
// to w, and returns its trailer with the raw size and SHA-256 it counted.
func readLogObject(r io.Reader, key []byte, w io.Writer) (logTrailer, int64, string, error) {
	var t logTrailer
	br := newPeekHeader(r)
	if sealing, ok := br.sealing(); ok && key != nil && sealing != sealAESGCM {
		return t, 0, "", fmt.Errorf("a key was given but the file is not encrypted (%s): %w: %w", sealingName(sealing), ErrWrongKey, ErrNotAuthentic)
	}
	fr, err := newFrameReader(br, key, nil)
	if err != nil {
		return t, 0, "", err
	}
	src := &contentFrames{fr: fr}
	dec, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return t, 0, "", fmt.Errorf("cannot start decompression: %v", err)
	}
	defer dec.Close()
	raw := newDigest()
	if _, err := io.Copy(teeWriter{w: w, d: raw}, dec); err != nil {
		if src.err != nil {
			return t, 0, "", src.err
		}
		if errors.Is(err, zstd.ErrMagicMismatch) || errors.Is(err, zstd.ErrCRCMismatch) {
			return t, 0, "", fmt.Errorf("cannot decompress: %v: %w", err, ErrCorrupt)
		}
		return t, 0, "", err
	}
	if src.trailer == nil {
		return t, 0, "", fmt.Errorf("the file ends without its trailer (truncated): %w", ErrCorrupt)
	}
	if err := fr.expectEOF(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("data follows the trailer: %w", ErrCorrupt)
		}
		return t, 0, "", err
	}
	if len(src.trailer) > maxLogTrailer {
		return t, 0, "", fmt.Errorf("its trailer is %d bytes, more than %d: %w", len(src.trailer), maxLogTrailer, ErrCorrupt)
	}
	dj := json.NewDecoder(bytes.NewReader(src.trailer))
	dj.DisallowUnknownFields()
	if err := dj.Decode(&t); err != nil {
		return t, 0, "", fmt.Errorf("cannot read its trailer: %v: %w", err, ErrCorrupt)
	}
	return t, raw.n, raw.sum(), nil
}

// contentFrames reads the payloads of a log object's frames but the last,
// and keeps the last, the trailer, aside.
type contentFrames struct {
	fr      *frameReader
	payload []byte
	trailer []byte
	err     error
}

func (c *contentFrames) Read(p []byte) (int, error) {
	for len(c.payload) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.trailer != nil {
			return 0, io.EOF
		}
		if err := c.fr.next(); err != nil {
			c.err = err
			continue
		}
		if c.fr.done {
			c.trailer = append([]byte{}, c.fr.payload...)
			c.fr.payload = nil
			continue
		}
		c.payload, c.fr.payload = c.fr.payload, nil
	}
	n := copy(p, c.payload)
	c.payload = c.payload[n:]
	return n, nil
}

// peekHeader lets the sealing byte of a part's header be read before the
// frame reader takes the part.
type peekHeader struct {
	r    io.Reader
	head []byte
	err  error
}

func newPeekHeader(r io.Reader) *peekHeader {
	p := &peekHeader{r: r, head: make([]byte, headerSize)}
	n, err := io.ReadFull(r, p.head)
	p.head, p.err = p.head[:n], err
	return p
}

// sealing returns the header's sealing byte when the header was read whole.
func (p *peekHeader) sealing() (byte, bool) {
	if len(p.head) < headerSize || string(p.head[:4]) != magic {
		return 0, false
	}
	return p.head[5], true
}

func (p *peekHeader) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	if p.err != nil && !errors.Is(p.err, io.EOF) && !errors.Is(p.err, io.ErrUnexpectedEOF) {
		return 0, p.err
	}
	return p.r.Read(b)
}

// VerifyLog reads an archived log file whole and checks it, as GetLog does,
// keeping none of it.
func VerifyLog(ctx context.Context, st store.Store, scope, stream, name string, partial bool, key []byte) (LogFile, error) {
	return GetLog(ctx, st, scope, stream, name, partial, key, io.Discard)
}

// ListLogs lists the archived files of one stream of a scope, in name order
// (a file's partial upload right after the complete one, when both exist).
// Objects whose names are not log file names are not listed. Size, Digest,
// Created and Encrypted are left zero: only reading a file tells them.
func ListLogs(ctx context.Context, st store.Store, scope, stream string) ([]LogFile, error) {
	if _, err := LogKey(scope, stream, "0", false); err != nil {
		return nil, err
	}
	folder := logsFolder(scope, stream)
	var out []LogFile
	for obj, err := range st.List(ctx, folder, store.ListOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("cannot list %s: %w", folder, err)
		}
		if obj.IsPrefix {
			continue
		}
		name, partial := strings.TrimPrefix(obj.Key, folder), false
		if n, ok := strings.CutSuffix(name, partialSuffix); ok {
			name, partial = n, true
		}
		if _, err := LogKey(scope, stream, name, partial); err != nil {
			continue
		}
		out = append(out, LogFile{Scope: scope, Stream: stream, Name: name, Partial: partial,
			Key: obj.Key, Stored: obj.Size, ModTime: obj.ModTime})
	}
	return out, nil
}

// DeleteLog removes one archived log file. Deleting a missing file is not
// an error.
func DeleteLog(ctx context.Context, st store.Store, scope, stream, name string, partial bool) error {
	key, err := LogKey(scope, stream, name, partial)
	if err != nil {
		return err
	}
	if err := st.Delete(ctx, key); err != nil {
		return fmt.Errorf("cannot delete archived log file %s: %w", key, err)
	}
	return nil
}
