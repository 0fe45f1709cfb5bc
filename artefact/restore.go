package artefact

import (
	"bufio"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
)

// ErrIncomplete is returned for a backup folder without a manifest: a
// backup that failed or was killed midway. It is never restored.
var ErrIncomplete = errors.New("the backup is incomplete (no manifest)")

// ReadManifest reads and validates the manifest of the backup at prefix.
// Without a manifest, it returns an error wrapping ErrIncomplete when the
// folder holds objects of its own (a failed or running backup), and one
// wrapping ErrNoBackup (and store.ErrNotFound) when it holds none: nothing
// there, or only folders, such as a scope's.
func ReadManifest(ctx context.Context, st store.Store, prefix string) (Manifest, error) {
	m, err := readManifestAt(ctx, st, prefix+ManifestName)
	if errors.Is(err, store.ErrNotFound) {
		objs, _, err := folderObjects(ctx, st, prefix)
		switch {
		case err != nil:
			return Manifest{}, fmt.Errorf("backup %s has no manifest: %w", prefix, err)
		case len(objs) == 0:
			return Manifest{}, &noBackupError{prefix: prefix}
		}
		return Manifest{}, fmt.Errorf("backup %s: %w", prefix, ErrIncomplete)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("backup %s: %w", prefix, err)
	}
	return m, nil
}

// readManifestAt reads and validates the manifest object key.
func readManifestAt(ctx context.Context, st store.Store, key string) (Manifest, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("cannot read the manifest: %w", err)
	}
	return ParseManifest(data)
}

// Open reads the manifest of the backup at prefix and checks it against
// key before anything else is downloaded: an encrypted backup needs its
// key, whose MAC of the manifest must match, and its manifest must name
// the folder at prefix (else ErrWrongKey or ErrNotAuthentic); a key given
// for a backup that is not encrypted is refused (ErrWrongKey). Without a
// key, nothing proves who wrote an unencrypted backup (see frame.go).
func Open(ctx context.Context, st store.Store, prefix string, key []byte) (Manifest, error) {
	m, err := ReadManifest(ctx, st, prefix)
	if err != nil {
		return m, err
	}
	if err := authenticate(prefix, m, key); err != nil {
		return m, err
	}
	return m, nil
}

// dataReader streams the raw bytes of one part: every frame verified (and
// decrypted) before its bytes are handed on, decompressed, and at the end
// the sizes and SHA-256 digests checked against the manifest, so that a
// reader never sees io.EOF from a part that does not match it.
type dataReader struct {
	body   io.ReadCloser
	stored *digest
	raw    *digest
	dec    *zstd.Decoder
	src    io.Reader
	part   Part
	err    error
}

func openPart(ctx context.Context, st store.Store, prefix string, m Manifest, p Part, key []byte) (*dataReader, error) {
	body, err := getPart(ctx, st, prefix, p)
	if err != nil {
		return nil, err
	}
	return newDataReader(body, prefix, m, p, key)
}

// getPart opens the stored object of part p.
func getPart(ctx context.Context, st store.Store, prefix string, p Part) (io.ReadCloser, error) {
	body, err := st.Get(ctx, prefix+p.Name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("backup %s: part %s is missing: %w", prefix, p.Name, ErrCorrupt)
		}
		return nil, fmt.Errorf("cannot read part %s of %s: %w", p.Name, prefix, err)
	}
	return body, nil
}

// newDataReader reads part p of the backup at prefix from body, its stored
// bytes; it closes body on failure.
func newDataReader(body io.ReadCloser, prefix string, m Manifest, p Part, key []byte) (*dataReader, error) {
	raw, salt, err := partChecks(m, p, key)
	if err != nil {
		body.Close()
		return nil, fmt.Errorf("backup %s part %s: %w", prefix, p.Name, err)
	}
	r := &dataReader{body: body, stored: newDigest(), raw: raw, part: p}
	var src io.Reader = teeReader{r: body, d: r.stored}
	if p.Container == ContainerFramed {
		fr, err := newFrameReader(src, key, salt)
		if err != nil {
			body.Close()
			return nil, fmt.Errorf("backup %s part %s: %w", prefix, p.Name, err)
		}
		src = fr
	}
	if m.Compression == CompressionZstd && p.Name != LogName {
		dec, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			body.Close()
			return nil, fmt.Errorf("cannot start decompression: %v", err)
		}
		r.dec, src = dec, dec
	}
	r.src = src
	return r, nil
}

func (r *dataReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.src.Read(p)
	r.raw.Write(p[:n])
	if r.raw.n > r.part.RawBytes {
		r.err = fmt.Errorf("part %s holds more than its %d bytes: %w", r.part.Name, r.part.RawBytes, ErrCorrupt)
		return 0, r.err
	}
	if errors.Is(err, io.EOF) {
		if verr := r.check(); verr != nil {
			r.err = verr
			return n, verr
		}
	} else if err != nil {
		if errors.Is(err, zstd.ErrMagicMismatch) || errors.Is(err, zstd.ErrCRCMismatch) {
			err = fmt.Errorf("part %s does not decompress: %v: %w", r.part.Name, err, ErrCorrupt)
		}
		r.err = err
	}
	return n, err
}

// check compares what was read with the manifest.
func (r *dataReader) check() error {
	p := r.part
	switch {
	case r.raw.n != p.RawBytes:
		return fmt.Errorf("part %s: %d bytes, manifest says %d: %w", p.Name, r.raw.n, p.RawBytes, ErrCorrupt)
	case !hmac.Equal([]byte(r.raw.sum()), []byte(p.RawSHA256)):
		return fmt.Errorf("part %s: content checksum mismatch: %w", p.Name, ErrCorrupt)
	}
	// The stored digest is complete only once the body is drained.
	if _, err := io.Copy(io.Discard, teeReader{r: r.body, d: r.stored}); err != nil {
		return fmt.Errorf("cannot read the end of part %s: %w", p.Name, err)
	}
	switch {
	case r.stored.n != p.StoredBytes:
		return fmt.Errorf("part %s: stored object is %d bytes, manifest says %d: %w", p.Name, r.stored.n, p.StoredBytes, ErrCorrupt)
	case r.stored.sum() != p.SHA256:
		return fmt.Errorf("part %s: stored object checksum mismatch: %w", p.Name, ErrCorrupt)
	}
	return nil
}

// failure returns the error that ended the reading, if any.
func (r *dataReader) failure() error { return r.err }

func (r *dataReader) Close() error {
	if r.dec != nil {
		r.dec.Close()
	}
	return r.body.Close()
}

// partReader reads the raw bytes of a data part; failure returns the error
// that ended the reading (io.EOF at a verified end), nil while it goes on.
type partReader interface {
	io.ReadCloser
	failure() error
}

// Consumer reads one backup stream and loads it; engine.Engine.Restore fits it.
type Consumer func(ctx context.Context, r io.Reader) (engine.Result, error)

// RestoreOptions says how to restore one backup.
type RestoreOptions struct {
	// Key opens an encrypted backup.
	Key []byte
	// VerifyFirst reads and checks the whole backup before the consumer
	// sees a byte of it: for engines whose restore cannot roll back
	// (MariaDB's SQL stream commits as it goes). The stored bytes are
	// downloaded once, spooled to a local file while they are checked, and
	// the consumer is fed from that file (checked again as it is read);
	// when the file cannot be written (a full disk), the backup is
	// downloaded a second time instead.
	VerifyFirst bool
	// SpoolDir is the folder of VerifyFirst's file: empty means
	// os.TempDir(). The file is private (mode 0600), holds the stored
	// bytes (still encrypted when the backup is), and is removed before
	// Restore returns, on failure too; on Linux it has no name once open,
	// so not even a killed restore leaves it behind.
	SpoolDir string
}

// Restore opens the backup at prefix, checks its manifest and key, and
// feeds its data to consume, verified frame by frame: a damaged frame is
// refused before any of its bytes reach the consumer, and a part that does
// not match its manifest ends in an error instead of io.EOF, so a
// transactional restore (pg_restore --single-transaction) rolls back.
func Restore(ctx context.Context, st store.Store, prefix string, opts RestoreOptions, consume Consumer) (Manifest, engine.Result, error) {
	m, err := Open(ctx, st, prefix, opts.Key)
	if err != nil {
		return m, engine.Result{}, err
	}
	return restoreOpened(ctx, st, prefix, m, opts, consume)
}

// Loader is what RestoreInto needs of an engine; engine.Engine has it.
type Loader interface {
	NeedsCheckedStream(backup engine.Result) bool
	Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (engine.Result, error)
}

// RestoreInto restores the backup at prefix into eng with spec. It feeds
// eng a stream checked as it is read (spec.Unchecked) when eng says it can
// keep the target unchanged if the stream fails midway, and a stream
// checked whole first (VerifyFirst) otherwise, or when eng finds midway
// that it cannot (engine.ErrNeedsCheckedStream, having changed nothing):
// then it says so on spec.Log and restores again. opts.VerifyFirst is
// ignored.
func RestoreInto(ctx context.Context, st store.Store, prefix string, opts RestoreOptions, eng Loader, spec engine.RestoreSpec) (Manifest, engine.Result, error) {
	m, err := Open(ctx, st, prefix, opts.Key)
	if err != nil {
		return m, engine.Result{}, err
	}
	opts.VerifyFirst = eng.NeedsCheckedStream(m.Engine)
	spec.Unchecked = !opts.VerifyFirst
	consume := func(ctx context.Context, r io.Reader) (engine.Result, error) { return eng.Restore(ctx, spec, r) }
	m, res, err := restoreOpened(ctx, st, prefix, m, opts, consume)
	if spec.Unchecked && errors.Is(err, engine.ErrNeedsCheckedStream) {
		if spec.Log != nil {
			fmt.Fprintf(spec.Log, "%v; restoring from the backup checked whole first instead\n", err)
		}
		opts.VerifyFirst, spec.Unchecked = true, false
		m, res, err = restoreOpened(ctx, st, prefix, m, opts, consume)
	}
	return m, res, err
}

// restoreOpened is Restore after Open gave m.
func restoreOpened(ctx context.Context, st store.Store, prefix string, m Manifest, opts RestoreOptions, consume Consumer) (Manifest, engine.Result, error) {
	var err error
	if len(m.Parts) != 1 {
		return m, engine.Result{}, fmt.Errorf("backup %s has %d data parts; this version restores one", prefix, len(m.Parts))
	}
	var r partReader
	if opts.VerifyFirst {
		r, err = verifySpooled(ctx, st, prefix, m, opts.Key, opts.SpoolDir)
	} else {
		r, err = openPart(ctx, st, prefix, m, m.Parts[0], opts.Key)
	}
	if err != nil {
		return m, engine.Result{}, err
	}
	defer r.Close()
	// Verify the first frame (and so the key) before the tool even starts.
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Peek(1); err != nil && !errors.Is(err, io.EOF) {
		return m, engine.Result{}, fmt.Errorf("backup %s: %w", prefix, err)
	}
	res, cerr := consume(ctx, br)
	if rerr := r.failure(); rerr != nil && !errors.Is(rerr, io.EOF) {
		return m, res, fmt.Errorf("backup %s: %w", prefix, rerr)
	}
	if cerr != nil {
		return m, res, cerr
	}
	// The consumer may stop before the end (a tool that has what it needs):
	// check the rest so a damaged tail is still reported.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return m, res, fmt.Errorf("backup %s: %w", prefix, err)
	}
	return m, res, nil
}

// Verify reads every part of the backup at prefix and checks it against its
// manifest, without a database.
func Verify(ctx context.Context, st store.Store, prefix string, key []byte) (Manifest, error) {
	m, err := Open(ctx, st, prefix, key)
	if err != nil {
		return m, err
	}
	return m, verifyParts(ctx, st, prefix, m, key)
}

func verifyParts(ctx context.Context, st store.Store, prefix string, m Manifest, key []byte) error {
	for _, p := range append(append([]Part(nil), m.Parts...), m.Log) {
		if err := verifyPart(ctx, st, prefix, m, p, key); err != nil {
			return err
		}
	}
	return nil
}
