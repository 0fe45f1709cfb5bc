package artefact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"syscall"

	"github.com/dbbackup/dbbackup/store"
)

// spoolBuffer is the write buffer of the spool file.
const spoolBuffer = 1 << 20

// spoolReserve is the free space a raw spool leaves on its file system
// beyond twice the raw size (the spool, and the database's own copy of
// the data when they share a disk).
var spoolReserve int64 = 1 << 30

// verifySpooled checks the whole backup at prefix (its one data part and
// its log) against the manifest, downloading the data part once, and
// returns a reader of the data part that needs no second download.
//
// While the part is checked, it is written to a private temporary file in
// dir: its raw bytes (decompressed) when the backup is not encrypted and
// the file system has room for them twice over (spoolReserve to spare),
// so that the restore reads them back without decompressing or hashing
// again (a CRC-32C per MiB catches a change of the file meanwhile);
// otherwise its stored bytes, read back through the full checks again.
// When the file cannot be made or written, the check still completes and
// the returned reader downloads the part again.
func verifySpooled(ctx context.Context, st store.Store, prefix string, m Manifest, key []byte, dir string) (partReader, error) {
	p := m.Parts[0]
	sp := newSpool(dir)
	raw := sp.f != nil && m.Encryption == EncryptionNone && roomFor(sp.f, 2*p.RawBytes+spoolReserve)
	body, err := getPart(ctx, st, prefix, p)
	if err != nil {
		sp.close()
		return nil, err
	}
	var in io.ReadCloser = spoolingBody{body: body, sp: sp}
	if raw {
		in = body
	}
	r, err := newDataReader(in, prefix, m, p, key)
	if err != nil {
		sp.close()
		return nil, err
	}
	var out io.Writer = io.Discard
	var rw *rawSpoolWriter
	if raw {
		rw = &rawSpoolWriter{sp: sp}
		out = rw
	}
	_, err = io.Copy(out, r)
	r.Close()
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("backup %s: %w", prefix, err)
	}
	if err := verifyPart(ctx, st, prefix, m, m.Log, key); err != nil {
		sp.close()
		return nil, err
	}
	f := sp.rewind()
	var dr *dataReader
	switch {
	case f != nil && raw:
		return rw.reader(f, p), nil
	case f != nil:
		dr, err = newDataReader(f, prefix, m, p, key)
	default:
		dr, err = openPart(ctx, st, prefix, m, p, key)
	}
	if err != nil {
		return nil, err
	}
	return dr, nil
}

// roomFor reports whether the file system holding f has n bytes free for
// an unprivileged writer.
func roomFor(f *os.File, n int64) bool {
	var fs syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &fs); err != nil {
		return false
	}
	free := fs.Bavail * uint64(fs.Bsize)
	return n >= 0 && free >= uint64(n)
}

// verifyPart reads part p and checks it against the manifest.
func verifyPart(ctx context.Context, st store.Store, prefix string, m Manifest, p Part, key []byte) error {
	r, err := openPart(ctx, st, prefix, m, p, key)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, r)
	r.Close()
	if err != nil {
		return fmt.Errorf("backup %s: %w", prefix, err)
	}
	return nil
}

// spool is a temporary file that keeps a copy of what is written to it, or
// nothing once a write failed (a full disk): failures only turn it off.
type spool struct {
	f  *os.File
	bw *bufio.Writer
}

// newSpool makes the file in dir (os.TempDir() when empty), mode 0600, and
// unlinks it at once where the system allows: the open file needs no name,
// and a killed process leaves nothing behind.
func newSpool(dir string) *spool {
	f, err := os.CreateTemp(dir, "dbbackup-restore-*.spool")
	if err != nil {
		return &spool{}
	}
	_ = os.Remove(f.Name())
	return &spool{f: f, bw: bufio.NewWriterSize(f, spoolBuffer)}
}

func (s *spool) write(p []byte) {
	if s.f == nil {
		return
	}
	if _, err := s.bw.Write(p); err != nil {
		s.close()
	}
}

// rewind flushes the file and returns it open at its start, to be read and
// closed by the caller; nil when the spool failed.
func (s *spool) rewind() *spoolFile {
	if s.f == nil {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		s.close()
		return nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		s.close()
		return nil
	}
	f := &spoolFile{f: s.f}
	s.f, s.bw = nil, nil
	return f
}

// close drops the file.
func (s *spool) close() {
	if s.f == nil {
		return
	}
	closeSpoolFile(s.f)
	s.f, s.bw = nil, nil
}

// closeSpoolFile closes f and removes it, if its name is still there.
func closeSpoolFile(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// spoolFile reads a spool back; Close removes it.
type spoolFile struct{ f *os.File }

func (s *spoolFile) Read(p []byte) (int, error) { return s.f.Read(p) }

func (s *spoolFile) Close() error {
	closeSpoolFile(s.f)
	return nil
}

// spoolingBody copies what is read from body into the spool.
type spoolingBody struct {
	body io.ReadCloser
	sp   *spool
}

func (b spoolingBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.sp.write(p[:n])
	return n, err
}

func (b spoolingBody) Close() error { return b.body.Close() }

// rawBlock is the span of each CRC-32C of a raw spool.
const rawBlock = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawSpoolWriter writes verified raw bytes to a spool and keeps a CRC-32C
// of every rawBlock of them.
type rawSpoolWriter struct {
	sp   *spool
	n    int64
	crc  uint32
	crcs []uint32
}

func (w *rawSpoolWriter) Write(p []byte) (int, error) {
	w.sp.write(p)
	for rest := p; len(rest) > 0; {
		k := min(len(rest), rawBlock-int(w.n%rawBlock))
		w.crc = crc32.Update(w.crc, castagnoli, rest[:k])
		w.n += int64(k)
		rest = rest[k:]
		if w.n%rawBlock == 0 {
			w.crcs = append(w.crcs, w.crc)
			w.crc = 0
		}
	}
	return len(p), nil
}

// reader returns a reader of the spool f, which holds what w wrote.
func (w *rawSpoolWriter) reader(f *spoolFile, p Part) *rawSpoolReader {
	crcs := w.crcs
	if w.n%rawBlock != 0 {
		crcs = append(crcs, w.crc)
	}
	return &rawSpoolReader{f: f, crcs: crcs, size: w.n, part: p}
}

// rawSpoolReader reads a raw spool back a block at a time, handing on no
// byte of a block before its CRC-32C matches, and ends with io.EOF only at
// the verified size: a file that changed after it was verified (a flipped
// byte, a cut, something added) ends the read with ErrCorrupt.
type rawSpoolReader struct {
	f    *spoolFile
	crcs []uint32
	size int64 // bytes written, all verified
	part Part
	n    int64  // bytes read from f and checked
	buf  []byte // the current block
	off  int    // bytes of buf handed on
	err  error
}

func (r *rawSpoolReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		if r.err = r.next(); r.err != nil {
			return 0, r.err
		}
	}
	k := copy(p, r.buf[r.off:])
	r.off += k
	return k, nil
}

// next reads and checks the next block into buf.
func (r *rawSpoolReader) next() error {
	changed := func(what string) error {
		return fmt.Errorf("part %s: the local spool file %s after the backup was verified: %w", r.part.Name, what, ErrCorrupt)
	}
	if r.n == r.size {
		var one [1]byte
		if n, _ := r.f.Read(one[:]); n > 0 {
			return changed("grew")
		}
		return io.EOF
	}
	if r.buf == nil {
		r.buf = make([]byte, rawBlock)
	}
	r.buf = r.buf[:min(rawBlock, r.size-r.n)]
	r.off = 0
	if _, err := io.ReadFull(r.f, r.buf); err != nil {
		r.buf = r.buf[:0]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return changed("shrank")
		}
		return fmt.Errorf("part %s: cannot read the local spool file: %w", r.part.Name, err)
	}
	if crc32.Checksum(r.buf, castagnoli) != r.crcs[r.n/rawBlock] {
		r.buf = r.buf[:0]
		return changed("changed")
	}
	r.n += int64(len(r.buf))
	return nil
}

func (r *rawSpoolReader) failure() error { return r.err }

func (r *rawSpoolReader) Close() error { return r.f.Close() }
