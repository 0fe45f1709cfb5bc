package postgres

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The pg-cluster-v1 stream holds a whole server in one stream of unknown
// length, written as it is dumped:
//
//	magic   "DBBPGCL1"
//	section kind (1 byte: 'G' globals SQL, 'D' database archive)
//	        name length (uint16, big endian), name
//	        chunks: length (uint32, big endian) then that many bytes;
//	        a zero length ends the section
//	...     more sections
//	end     kind 'E', then end of stream
//
// The explicit end mark tells a complete stream from one truncated at a
// section boundary.
const clusterMagic = "DBBPGCL1"

// Section kinds of the pg-cluster-v1 stream.
const (
	sectionGlobals  = 'G'
	sectionDatabase = 'D'
	sectionEnd      = 'E'
)

// maxChunk bounds one chunk, so that a corrupt length cannot make the
// reader allocate or wait for gigabytes.
const maxChunk = 16 << 20

// errCorrupt is wrapped by every framing error of a pg-cluster-v1 stream.
var errCorrupt = errors.New("corrupt pg-cluster-v1 stream")

// sectionWriter writes one section's content as chunks.
type sectionWriter struct{ w io.Writer }

// beginSection writes a section header and returns the writer of its
// content; close it with endSection.
func beginSection(w io.Writer, kind byte, name string) (*sectionWriter, error) {
	if len(name) > 0xffff {
		return nil, fmt.Errorf("cannot frame section: name of %d bytes", len(name))
	}
	hdr := make([]byte, 0, 3+len(name))
	hdr = append(hdr, kind)
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(name)))
	hdr = append(hdr, name...)
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &sectionWriter{w: w}, nil
}

// Write writes p as one or more chunks.
func (s *sectionWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxChunk)
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(n))
		if _, err := s.w.Write(hdr[:]); err != nil {
			return written, err
		}
		if _, err := s.w.Write(p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// endSection writes the zero-length chunk that ends a section.
func (s *sectionWriter) endSection() error {
	_, err := s.w.Write([]byte{0, 0, 0, 0})
	return err
}

// writeEnd writes the end mark of the stream.
func writeEnd(w io.Writer) error {
	_, err := w.Write([]byte{sectionEnd})
	return err
}

// clusterReader reads a pg-cluster-v1 stream section by section.
type clusterReader struct {
	r *bufio.Reader
	// open is the section being read, if any.
	open *sectionReader
}

// newClusterReader checks the magic and returns a reader of the sections.
func newClusterReader(r *bufio.Reader) (*clusterReader, error) {
	magic := make([]byte, len(clusterMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != clusterMagic {
		return nil, fmt.Errorf("%w: bad magic", errCorrupt)
	}
	return &clusterReader{r: r}, nil
}

// next returns the next section's kind, name and content reader, or
// io.EOF after the end mark. The previous section must have been read to
// its end.
func (c *clusterReader) next() (byte, string, io.Reader, error) {
	if c.open != nil && !c.open.done {
		return 0, "", nil, fmt.Errorf("%w: section %q not read to its end", errCorrupt, c.open.name)
	}
	kind, err := c.r.ReadByte()
	if err != nil {
		return 0, "", nil, fmt.Errorf("%w: truncated before the end mark", errCorrupt)
	}
	switch kind {
	case sectionEnd:
		if _, err := c.r.ReadByte(); err != io.EOF {
			return 0, "", nil, fmt.Errorf("%w: data after the end mark", errCorrupt)
		}
		return 0, "", nil, io.EOF
	case sectionGlobals, sectionDatabase:
	default:
		return 0, "", nil, fmt.Errorf("%w: unknown section kind %q", errCorrupt, kind)
	}
	var n [2]byte
	if _, err := io.ReadFull(c.r, n[:]); err != nil {
		return 0, "", nil, fmt.Errorf("%w: truncated section header", errCorrupt)
	}
	name := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(c.r, name); err != nil {
		return 0, "", nil, fmt.Errorf("%w: truncated section name", errCorrupt)
	}
	c.open = &sectionReader{r: c.r, name: string(name)}
	return kind, string(name), c.open, nil
}

// sectionReader yields one section's content, then io.EOF at its end mark;
// a stream cut inside the section is an error, never a clean EOF.
type sectionReader struct {
	r    *bufio.Reader
	name string
	left uint32
	done bool
}

// Read reads the section's content.
func (s *sectionReader) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	if s.left == 0 {
		var hdr [4]byte
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			return 0, fmt.Errorf("%w: section %q truncated", errCorrupt, s.name)
		}
		s.left = binary.BigEndian.Uint32(hdr[:])
		if s.left == 0 {
			s.done = true
			return 0, io.EOF
		}
		if s.left > maxChunk {
			return 0, fmt.Errorf("%w: chunk of %d bytes in section %q", errCorrupt, s.left, s.name)
		}
	}
	if uint32(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= uint32(n)
	if err == io.EOF || (err == nil && n == 0) {
		return n, fmt.Errorf("%w: section %q truncated", errCorrupt, s.name)
	}
	return n, err
}
