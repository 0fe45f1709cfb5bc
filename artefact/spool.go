package artefact

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dbbackup/dbbackup/store"
)

// spoolBuffer is the write buffer of the spool file.
const spoolBuffer = 1 << 20

// verifySpooled checks the whole backup at prefix (its one data part and
// its log) against the manifest, downloading the data part once: its stored
// bytes are written to a private temporary file in dir while they are
// checked. It returns a reader of the data part that reads that file and
// checks it again as it goes. When the file cannot be made or written, the
// check still completes and the returned reader downloads the part again.
func verifySpooled(ctx context.Context, st store.Store, prefix string, m Manifest, key []byte, dir string) (*dataReader, error) {
	p := m.Parts[0]
	sp := newSpool(dir)
	body, err := getPart(ctx, st, prefix, p)
	if err != nil {
		sp.close()
		return nil, err
	}
	r, err := newDataReader(spoolingBody{body: body, sp: sp}, prefix, m, p, key)
	if err != nil {
		sp.close()
		return nil, err
	}
	_, err = io.Copy(io.Discard, r)
	r.Close()
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("backup %s: %w", prefix, err)
	}
	if err := verifyPart(ctx, st, prefix, m, m.Log, key); err != nil {
		sp.close()
		return nil, err
	}
	if f := sp.rewind(); f != nil {
		return newDataReader(f, prefix, m, p, key)
	}
	return openPart(ctx, st, prefix, m, p, key)
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
