package artefact

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// digest counts and hashes what passes through it.
type digest struct {
	h hash.Hash
	n int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) Write(p []byte) (int, error) {
	d.h.Write(p)
	d.n += int64(len(p))
	return len(p), nil
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// teeWriter writes to w and to the digest d.
type teeWriter struct {
	w io.Writer
	d *digest
}

func (t teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.d.Write(p[:n])
	return n, err
}

// teeReader reads from r, feeding the digest d.
type teeReader struct {
	r io.Reader
	d *digest
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.d.Write(p[:n])
	return n, err
}
