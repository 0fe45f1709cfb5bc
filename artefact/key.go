package artefact

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
)

// KeySize is the size of an encryption key: 32 bytes, for AES-256.
const KeySize = 32

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

// ReadKeyFile reads an encryption key from a file (see ParseKey).
func ReadKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the encryption key file: %w", err)
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("encryption key file %s: %w", path, err)
	}
	return k, nil
}

// Fingerprint names a key without revealing it: the first 16 hex digits of
// SHA-256("dbbackup key fingerprint" | key). The manifest records it so a
// restore with the wrong key is refused before anything is downloaded.
func Fingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("dbbackup key fingerprint\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil))[:16]
}
