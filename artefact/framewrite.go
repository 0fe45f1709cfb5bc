package artefact

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// How frameWriter cuts frames (see frameWriter).
const (
	// frameDirect: a write of at least this many bytes, arriving while
	// nothing is gathered, is framed straight from the caller's slice.
	frameDirect = 64 << 10
	// frameGather bounds the payload of a frame gathered from smaller
	// writes.
	frameGather = 256 << 10
)

// frameWriter cuts what it is given into sealed frames. Close writes the
// final frame; a part without it is truncated.
//
// No frame holds more than the part's frame size. A write of at least
// frameDirect bytes that arrives while nothing is gathered becomes frames
// of its own, sealed from the caller's slice: the compressor hands over
// one zstd frame per write (half a MiB on text), and with an unkeyed
// sealing its bytes then reach w without a copy here (before, they were
// copied into a frame buffer and again into the sealed frame). Smaller
// writes are gathered into frames of up to frameGather bytes, in a buffer
// allocated at the first of them. frameReader reads frames of any length
// up to the frame size alike, so parts written before read as they did.
type frameWriter struct {
	w      io.Writer
	s      *sealer
	size   int    // the largest payload of a frame
	buf    []byte // gathered payload
	out    []byte // the frame's head; with aes-256-gcm, the sealed frame
	index  uint64
	closed bool
}

// newFrameWriter starts a part in w: sealed with AES-256-GCM under key, or
// with CRC-32C when key is nil.
func newFrameWriter(w io.Writer, key []byte, frameSize int) (*frameWriter, error) {
	sealing := byte(sealCRC32C)
	if key != nil {
		sealing = sealAESGCM
	}
	return newFrameWriterSealed(w, key, frameSize, sealing)
}

// newFrameWriterSealed is newFrameWriter with the sealing chosen (tests
// write the sha256 sealing of older parts with it).
func newFrameWriterSealed(w io.Writer, key []byte, frameSize int, sealing byte) (*frameWriter, error) {
	if frameSize <= 0 || frameSize > maxFrameSize {
		return nil, fmt.Errorf("frame size %d is not in 1..%d", frameSize, maxFrameSize)
	}
	header := make([]byte, headerSize)
	copy(header, magic)
	header[4] = formatVersion
	header[5] = sealing
	binary.BigEndian.PutUint32(header[6:10], uint32(frameSize))
	if _, err := rand.Read(header[10:42]); err != nil {
		return nil, fmt.Errorf("cannot make a salt: %v", err)
	}
	s, err := newSealer(header, key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	return &frameWriter{w: w, s: s, size: frameSize}, nil
}

// salt returns the salt of the part's header.
func (f *frameWriter) salt() []byte { return f.s.header[10:42] }

func (f *frameWriter) Write(p []byte) (int, error) {
	if f.closed {
		return 0, errors.New("the part is already closed")
	}
	n := 0
	for len(p) > 0 {
		if len(f.buf) == 0 && len(p) >= min(frameDirect, f.size) {
			k := min(len(p), f.size)
			if err := f.frame(p[:k], false); err != nil {
				return n, err
			}
			p, n = p[k:], n+k
			continue
		}
		if f.buf == nil {
			f.buf = make([]byte, 0, min(frameGather, f.size))
		}
		k := copy(f.buf[len(f.buf):cap(f.buf)], p)
		f.buf = f.buf[:len(f.buf)+k]
		p, n = p[k:], n+k
		if len(f.buf) == cap(f.buf) {
			if err := f.flush(false); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush writes the gathered payload as one frame.
func (f *frameWriter) flush(final bool) error {
	err := f.frame(f.buf, final)
	f.buf = f.buf[:0]
	return err
}

// frame seals payload as the next frame and writes it to w. Under an
// unkeyed sealing it writes the head, the payload itself and the checksum.
func (f *frameWriter) frame(payload []byte, final bool) error {
	index := f.index
	f.index++
	f.out = binary.BigEndian.AppendUint32(f.out[:0], uint32(len(payload)+f.s.overhead()))
	if final {
		f.out = append(f.out, 1)
	} else {
		f.out = append(f.out, 0)
	}
	if f.s.aead != nil {
		f.out = f.s.seal(f.out, payload, index, final)
		_, err := f.w.Write(f.out)
		return err
	}
	if _, err := f.w.Write(f.out); err != nil {
		return err
	}
	if _, err := f.w.Write(payload); err != nil {
		return err
	}
	f.out = f.s.sum(f.out[:0], payload, index, final)
	_, err := f.w.Write(f.out)
	return err
}

// Close writes the final frame (possibly empty).
func (f *frameWriter) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	return f.flush(true)
}

// closeWith writes what is gathered as a frame of its own, then p alone as
// the final frame.
func (f *frameWriter) closeWith(p []byte) error {
	if f.closed {
		return errors.New("the part is already closed")
	}
	if len(p) > f.size {
		return fmt.Errorf("final frame of %d bytes is larger than the frame size", len(p))
	}
	if len(f.buf) > 0 {
		if err := f.flush(false); err != nil {
			return err
		}
	}
	f.closed = true
	return f.frame(p, true)
}
