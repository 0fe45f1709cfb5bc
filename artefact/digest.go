package artefact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// The values of Manifest.RawDigest: how the raw-sha256 digests of a
// manifest (each part's and the whole's) are made.
const (
	// RawDigestSHA256 is the bare SHA-256 of the raw bytes: unencrypted
	// backups (a manifest without raw-digest means it).
	RawDigestSHA256 = "sha256"
	// RawDigestHMAC is HMAC-SHA256 under a key derived from the encryption
	// key, the scope and the job id (see rawDigestKey): encrypted backups,
	// whose manifests must not tell who reads the bucket whether two
	// plaintexts are equal, nor let a guessed plaintext be confirmed.
	RawDigestHMAC = "hmac-sha256"
)

// digest counts and hashes what passes through it.
type digest struct {
	h hash.Hash
	n int64
}

// newDigest returns a bare SHA-256 digest: the stored objects' and the raw
// bytes' of unencrypted backups.
func newDigest() *digest { return &digest{h: sha256.New()} }

// newRawDigest returns the digest of the raw bytes of the backup m says:
// keyed (HMAC-SHA256) when it is encrypted, so key is needed then.
func newRawDigest(m Manifest, key []byte) (*digest, error) {
	if m.Encryption == EncryptionNone {
		return newDigest(), nil
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("backup %s/%s is encrypted: its digests need the encryption key: %w", m.Scope, m.JobID, ErrWrongKey)
	}
	k, err := rawDigestKey(key, m.Scope, m.JobID)
	if err != nil {
		return nil, err
	}
	return &digest{h: hmac.New(sha256.New, k)}, nil
}

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
