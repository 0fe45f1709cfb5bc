package artefact

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The container every stored part is written in. It makes each chunk of a
// part verifiable on its own, so a reader refuses a corrupted chunk before
// one byte of it reaches a database:
//
//	header: "DBBK" | version (1) | sealing (0 sha256, 1 aes-256-gcm, 2 crc32c) | frame size (u32) | salt (32 bytes)
//	frame:  length of body (u32) | final flag (1 byte) | body
//
// With crc32c sealing (what unencrypted parts are written with) a body is
// the payload followed by CRC-32C(header | frame index (u64) | final flag
// | payload), big-endian; with sha256 sealing (parts written before it,
// still read) by SHA-256 of the same. With aes-256-gcm it is the
// AES-256-GCM sealing of the payload under a key derived from the user's
// key and the salt (HKDF-SHA256, info infoPart), with the frame index as
// nonce and header | index | final flag as additional data. Either way a
// flipped byte, a reordered or dropped frame and a truncated part (no
// final frame) are detected before the frame's bytes are handed on.
//
// What is guaranteed WITHOUT a key (an unencrypted backup, restored
// without a key): only that accidents are caught. An unkeyed seal,
// CRC-32C or SHA-256 alike, proves nothing about who wrote the part: who
// can write the bucket can write other parts, reseal them and rewrite the
// manifest beside them, and such a backup restores. What the seal buys is
// that damage is caught before the frame's bytes reach a database; the
// SHA-256 of the whole object and of the raw stream in the manifest,
// checked at the end of every restore and verify, catch what a CRC-32C
// would miss (one damaged frame in 2^32). CRC-32C costs a tenth of SHA-256
// on the backup's and the restore's cores.
//
// What is guaranteed WITH a key (an encrypted backup, restored with its
// key): that every byte handed on was written by someone holding the key,
// for this backup, in this order, whole. Open checks the manifest's MAC
// (mac.go) before any part is read; then every part, data and log, must
// be sealed with aes-256-gcm (a part sealed otherwise is refused with
// ErrNotAuthentic before any of its bytes are handed on, whatever the
// manifest says), its header salt must be the one the authenticated
// manifest records (a part of another backup under the same key is
// refused the same way, before its first frame), and each frame must open
// under the key. A key given for a backup that is not encrypted is
// refused (ErrWrongKey), and so is an encrypted backup without its key.
const (
	magic         = "DBBK"
	formatVersion = 1
	headerSize    = 4 + 1 + 1 + 4 + 32
	// DefaultFrameSize is the largest payload of one frame.
	DefaultFrameSize = 1 << 20
	maxFrameSize     = 16 << 20
	sealSHA256       = 0
	sealAESGCM       = 1
	sealCRC32C       = 2
)

// ErrCorrupt is wrapped by every error that says stored data is damaged,
// truncated or not ours.
var ErrCorrupt = errors.New("artefact is corrupt")

// ErrWrongKey is wrapped when the key given is not the backup's: another
// key, no key for an encrypted backup, or a key for one that is not
// encrypted.
var ErrWrongKey = errors.New("wrong encryption key")

// sealer seals and opens the frames of one part.
type sealer struct {
	header []byte
	aead   cipher.AEAD // nil: sha256 or crc32c sealing
	crc    bool        // crc32c sealing
}

func newSealer(header []byte, key []byte) (*sealer, error) {
	s := &sealer{header: header, crc: header[5] == sealCRC32C}
	if header[5] == sealAESGCM {
		if len(key) != KeySize {
			return nil, fmt.Errorf("the part is encrypted: an encryption key is needed: %w", ErrWrongKey)
		}
		k, err := deriveKey(key, header[10:42], infoPart)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("cannot make the cipher: %v", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("cannot make the cipher: %v", err)
		}
	}
	return s, nil
}

// aad returns header | index | final.
func (s *sealer) aad(index uint64, final bool) []byte {
	b := make([]byte, 0, len(s.header)+9)
	b = append(b, s.header...)
	b = binary.BigEndian.AppendUint64(b, index)
	if final {
		return append(b, 1)
	}
	return append(b, 0)
}

// seal appends to dst the body of a frame holding payload: the payload
// sealed with aes-256-gcm, or the payload and its checksum.
func (s *sealer) seal(dst, payload []byte, index uint64, final bool) []byte {
	if s.aead != nil {
		return s.aead.Seal(dst, nonce(index), payload, s.aad(index, final))
	}
	return s.sum(append(dst, payload...), payload, index, final)
}

// sum appends to dst the checksum an unkeyed sealing (crc32c or sha256)
// puts after payload.
func (s *sealer) sum(dst, payload []byte, index uint64, final bool) []byte {
	aad := s.aad(index, final)
	if s.crc {
		return binary.BigEndian.AppendUint32(dst, crc32.Update(crc32.Checksum(aad, castagnoli), castagnoli, payload))
	}
	h := sha256.New()
	h.Write(aad)
	h.Write(payload)
	return h.Sum(dst)
}

func (s *sealer) open(body []byte, index uint64, final bool) ([]byte, error) {
	aad := s.aad(index, final)
	if s.aead != nil {
		p, err := s.aead.Open(body[:0], nonce(index), body, aad)
		if err != nil {
			// The key was checked against the manifest's MAC already.
			return nil, fmt.Errorf("frame %d does not authenticate under the key (damaged, or not written with it): %w", index, ErrCorrupt)
		}
		return p, nil
	}
	if s.crc {
		if len(body) < crc32.Size {
			return nil, fmt.Errorf("frame %d is shorter than its checksum: %w", index, ErrCorrupt)
		}
		payload, sum := body[:len(body)-crc32.Size], body[len(body)-crc32.Size:]
		if crc32.Update(crc32.Checksum(aad, castagnoli), castagnoli, payload) != binary.BigEndian.Uint32(sum) {
			return nil, fmt.Errorf("frame %d checksum mismatch: %w", index, ErrCorrupt)
		}
		return payload, nil
	}
	if len(body) < sha256.Size {
		return nil, fmt.Errorf("frame %d is shorter than its checksum: %w", index, ErrCorrupt)
	}
	payload, sum := body[:len(body)-sha256.Size], body[len(body)-sha256.Size:]
	h := sha256.New()
	h.Write(aad)
	h.Write(payload)
	if !bytes.Equal(h.Sum(nil), sum) {
		return nil, fmt.Errorf("frame %d checksum mismatch: %w", index, ErrCorrupt)
	}
	return payload, nil
}

func (s *sealer) overhead() int {
	if s.aead != nil {
		return s.aead.Overhead()
	}
	if s.crc {
		return crc32.Size
	}
	return sha256.Size
}

func nonce(index uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], index)
	return n
}

// frameReader reads and verifies a part written by frameWriter. It hands
// out a frame's payload only once the frame is verified, and reports a
// part that ends without its final frame as truncated.
type frameReader struct {
	r       io.Reader
	s       *sealer
	max     int
	body    []byte
	payload []byte
	index   uint64
	done    bool
	err     error
}

// newFrameReader reads a part from r. With a key, the part must be sealed
// with aes-256-gcm under it, and, when salt is not nil, its header must
// hold salt (the one the manifest records): otherwise ErrNotAuthentic,
// before a frame is read. Without a key, an encrypted part is refused
// (ErrWrongKey) and any other sealing is read: it proves nothing.
func newFrameReader(r io.Reader, key, salt []byte) (*frameReader, error) {
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("cannot read the part header: %v: %w", err, ErrCorrupt)
	}
	if string(header[:4]) != magic {
		return nil, fmt.Errorf("the part does not start with the artefact header: %w", ErrCorrupt)
	}
	if header[4] != formatVersion {
		return nil, fmt.Errorf("part format version %d is not supported (want %d): %w", header[4], formatVersion, ErrCorrupt)
	}
	if header[5] != sealSHA256 && header[5] != sealAESGCM && header[5] != sealCRC32C {
		return nil, fmt.Errorf("unknown sealing %d (a newer dbbackup may have written the part): %w", header[5], ErrCorrupt)
	}
	size := int(binary.BigEndian.Uint32(header[6:10]))
	if size <= 0 || size > maxFrameSize {
		return nil, fmt.Errorf("frame size %d out of range: %w", size, ErrCorrupt)
	}
	switch {
	case key != nil && header[5] != sealAESGCM:
		return nil, fmt.Errorf("the part is not encrypted (sealed with %s) though the backup is: refused, nothing proves who wrote it: %w", sealingName(header[5]), ErrNotAuthentic)
	case salt != nil && !bytes.Equal(header[10:42], salt):
		return nil, fmt.Errorf("the part's salt is not the one its manifest records (a part of another backup): %w", ErrNotAuthentic)
	}
	s, err := newSealer(header, key)
	if err != nil {
		return nil, err
	}
	return &frameReader{r: r, s: s, max: size + s.overhead()}, nil
}

// sealingName names a known sealing.
func sealingName(sealing byte) string {
	switch sealing {
	case sealSHA256:
		return "sha256"
	case sealCRC32C:
		return "crc32c"
	}
	return "aes-256-gcm"
}

func (f *frameReader) Read(p []byte) (int, error) {
	for len(f.payload) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		if f.done {
			f.err = f.expectEOF()
			continue
		}
		f.err = f.next()
	}
	n := copy(p, f.payload)
	f.payload = f.payload[n:]
	return n, nil
}

// next reads and verifies one frame.
func (f *frameReader) next() error {
	var head [5]byte
	if _, err := io.ReadFull(f.r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("the part ends after frame %d without its final frame (truncated): %w", f.index, ErrCorrupt)
		}
		return err
	}
	n := int(binary.BigEndian.Uint32(head[:4]))
	if n < f.s.overhead() || n > f.max || head[4] > 1 {
		return fmt.Errorf("frame %d has a bad length or flag: %w", f.index, ErrCorrupt)
	}
	if cap(f.body) < n {
		f.body = make([]byte, n)
	}
	f.body = f.body[:n]
	if _, err := io.ReadFull(f.r, f.body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("frame %d is cut short (truncated): %w", f.index, ErrCorrupt)
		}
		return err
	}
	final := head[4] == 1
	p, err := f.s.open(f.body, f.index, final)
	if err != nil {
		return err
	}
	f.index++
	f.payload, f.done = p, final
	return nil
}

// expectEOF checks that nothing follows the final frame.
func (f *frameReader) expectEOF() error {
	var b [1]byte
	n, err := io.ReadFull(f.r, b[:])
	if n > 0 {
		return fmt.Errorf("data follows the final frame: %w", ErrCorrupt)
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}
