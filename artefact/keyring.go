package artefact

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// The content of a Juju secret that holds encryption keys (docs/manager.md):
// KeySecretField the key new backups use, written as a key file holds it
// (see ParseKey), and PreviousKeysSecretField, optional, the keys it
// replaced, separated by white space or commas, so that the backups they
// encrypted can still be restored.
const (
	KeySecretField          = "key"
	PreviousKeysSecretField = "previous-keys"
)

// maxKeys bounds a key ring: rotations keep old keys, but not without end.
const maxKeys = 64

// Keys is a key ring: the key new backups use first, then the keys it
// replaced. No two have the same fingerprint.
type Keys [][]byte

// KeysFromSecret reads the content of a key secret (KeySecretField and
// PreviousKeysSecretField). Its errors name the field and the position of
// a bad key, never a key.
func KeysFromSecret(content map[string]string) (Keys, error) {
	cur := strings.TrimSpace(content[KeySecretField])
	if cur == "" {
		return nil, fmt.Errorf("the secret has no %q", KeySecretField)
	}
	k, err := ParseKey([]byte(cur))
	if err != nil {
		return nil, fmt.Errorf("the secret's %q: %w", KeySecretField, err)
	}
	prev, err := ParseKeyList(content[PreviousKeysSecretField])
	if err != nil {
		return nil, fmt.Errorf("the secret's %q: %w", PreviousKeysSecretField, err)
	}
	return dedupe(append(Keys{k}, prev...))
}

// ParseKeyList reads keys separated by white space or commas, each as
// ParseKey reads it in text (64 hex digits or base64); "" is no key.
func ParseKeyList(text string) (Keys, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
	if len(fields) > maxKeys {
		return nil, fmt.Errorf("%d keys, at most %d", len(fields), maxKeys)
	}
	out := make(Keys, 0, len(fields))
	for i, f := range fields {
		if len(f) == KeySize {
			// 32 characters of text are not 32 raw bytes here: refuse
			// rather than read a short hex or base64 string as a key.
			return nil, fmt.Errorf("key %d: an encryption key in a list must be 64 hex digits or the base64 of 32 bytes", i+1)
		}
		k, err := ParseKey([]byte(f))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		out = append(out, k)
	}
	return dedupe(out)
}

// dedupe drops a key listed twice, keeping its first place.
func dedupe(ks Keys) (Keys, error) {
	if len(ks) > maxKeys {
		return nil, fmt.Errorf("%d keys, at most %d", len(ks), maxKeys)
	}
	seen := map[string]bool{}
	out := ks[:0]
	for _, k := range ks {
		fp := Fingerprint(k)
		if !seen[fp] {
			seen[fp] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// Current returns the key new backups use, nil for an empty ring.
func (ks Keys) Current() []byte {
	if len(ks) == 0 {
		return nil
	}
	return ks[0]
}

// ByFingerprint returns the key whose Fingerprint is fp, or nil.
func (ks Keys) ByFingerprint(fp string) []byte {
	for _, k := range ks {
		if Fingerprint(k) == fp {
			return k
		}
	}
	return nil
}

// Fingerprints returns the fingerprints of the keys, in order.
func (ks Keys) Fingerprints() []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = Fingerprint(k)
	}
	return out
}

// Text writes the keys as ParseKeyList reads them: hex, one space apart.
// It is key material: it goes only into a secret or a 0600 file.
func (ks Keys) Text() string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = hex.EncodeToString(k)
	}
	return strings.Join(parts, " ")
}

// String names the keys by their fingerprints only, so that a key ring
// printed by mistake shows no key.
func (ks Keys) String() string {
	return "keys[" + strings.Join(ks.Fingerprints(), " ") + "]"
}

// GoString is String, for %#v.
func (ks Keys) GoString() string { return ks.String() }
