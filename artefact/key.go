package artefact

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// KeySize is the size of an encryption key: 32 bytes, for AES-256.
const KeySize = 32

// maxKeyFile bounds what is read of a key file: a key is at most 32 raw
// bytes, 64 hex digits or 44 base64 characters, and white space around.
const maxKeyFile = 4096

// ParseKey reads an encryption key written as 32 raw bytes, 64 hex digits or
// the base64 of 32 bytes (surrounding white space ignored). Its errors never
// repeat the key.
func ParseKey(data []byte) ([]byte, error) {
	if len(data) == KeySize {
		return append([]byte(nil), data...), nil
	}
	t := bytes.TrimSpace(data)
	if len(t) == 2*KeySize {
		if k, err := hex.DecodeString(string(t)); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(string(t)); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("an encryption key must be 32 bytes, 64 hex digits or the base64 of 32 bytes (got %d bytes)", len(data))
}

// ReadKeyFile reads an encryption key from a file (see ParseKey). It reads
// at most 4096 bytes and one more: a larger file (or a device such as
// /dev/zero) is refused without being read into memory. Its errors name
// the file, never the key.
func ReadKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the encryption key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the encryption key file: %w", err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("encryption key file %s: larger than %d bytes, not a key", path, maxKeyFile)
	}
	k, err := ParseKey(data)
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return k, nil
}

// Fingerprint names a key without revealing it: the first 16 hex digits of
// SHA-256("dbbackup key fingerprint" | key). The manifest records it so a
// restore with the wrong key is refused before anything is downloaded. It
// proves nothing (anyone can write any fingerprint): the manifest's MAC does.
func Fingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("dbbackup key fingerprint\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// The HKDF-SHA256 info strings of the keys derived from the user's key,
// one per use, so that no two uses share a key:
//
//   - infoPart (salt: the part header's random salt) seals a part's frames
//     (frame.go);
//   - infoManifestMAC keys the manifest's MAC (mac.go);
//   - infoRawDigest, followed by NUL, the scope, NUL and the job id, keys
//     the HMAC-SHA256 digests of the raw bytes of one backup, so equal
//     plaintexts in two backups do not show as equal digests.
const (
	infoPart        = "dbbackup artefact v1"
	infoManifestMAC = "dbbackup manifest mac v1"
	infoRawDigest   = "dbbackup raw digest v1"
)

// deriveKey derives a 32-byte key from the user's key.
func deriveKey(key, salt []byte, info string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, key, salt, info, 32)
	if err != nil {
		return nil, fmt.Errorf("cannot derive a key: %v", err)
	}
	return k, nil
}

// rawDigestKey derives the key of the raw digests of the backup scope/jobID.
func rawDigestKey(key []byte, scope, jobID string) ([]byte, error) {
	return deriveKey(key, nil, infoRawDigest+"\x00"+scope+"\x00"+jobID)
}
