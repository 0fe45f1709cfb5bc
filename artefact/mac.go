package artefact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ErrNotAuthentic is wrapped when a backup opened with a key holds
// something that key did not write: a manifest whose MAC does not match, a
// part not sealed under the key, a part of another backup. It wraps
// ErrCorrupt, so what branches on ErrCorrupt refuses it too.
var ErrNotAuthentic = fmt.Errorf("not written with the encryption key given: %w", ErrCorrupt)

// The MAC of a manifest is HMAC-SHA256, under the key derived from the
// user's key with HKDF-SHA256 and the info infoManifestMAC, of the
// manifest's canonical form: what Marshal writes of it with the mac field
// empty (and so absent). Marshal is deterministic: fields in the order of
// the struct, no maps, times in RFC 3339 with nanoseconds, the same
// escaping every time. The check marshals again what ParseManifest read,
// so what it authenticates is exactly the values dbbackup acts on: white
// space, unknown or repeated fields and other spellings of the same JSON
// in the stored object change nothing that is used, and anything that is
// used is covered.
//
// A manifest binds its backup's parts through their sizes, digests and
// header salts, and names its own scope and job id: Open also checks that
// they are those of the folder it was read from, so a manifest (or a
// whole folder) of another backup under the same key is refused.
//
// A part is bound to its backup by its header salt, recorded in the
// authenticated manifest and compared when the header is read (the header
// is in every frame's additional data, so it cannot be changed either).
// That was chosen over deriving the part key from the scope, job id and
// part name: the check refuses a part of another backup before any frame
// is read or decrypted, with an error that says so (not a frame 0 that
// fails to open, which could be damage), and the part format and its key
// derivation stay as they were.

// manifestMAC returns the MAC of m under key.
func manifestMAC(m Manifest, key []byte) ([]byte, error) {
	k, err := deriveKey(key, nil, infoManifestMAC)
	if err != nil {
		return nil, err
	}
	m.MAC = ""
	b, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, k)
	h.Write(b)
	return h.Sum(nil), nil
}

// seal sets m.MAC: the last change to the manifest of an encrypted backup
// before it is stored.
func (m *Manifest) seal(key []byte) error {
	mac, err := manifestMAC(*m, key)
	if err != nil {
		return err
	}
	m.MAC = hex.EncodeToString(mac)
	return nil
}

// authenticate checks the manifest m, read from prefix, against the key
// given: an encrypted backup needs that key (its fingerprint) and a MAC
// that matches, and must name the folder it was read from; a backup that
// is not encrypted is refused when a key is given, since nothing in it
// could prove it was written with that key.
func authenticate(prefix string, m Manifest, key []byte) error {
	switch {
	case m.Encryption != EncryptionAES && key != nil:
		return fmt.Errorf("backup %s is not encrypted; a key was given: refused, since nothing in an unencrypted backup proves who wrote it (restore it without the key if that is meant): %w", prefix, ErrWrongKey)
	case m.Encryption != EncryptionAES:
		return ownFolder(prefix, m)
	case key == nil:
		return fmt.Errorf("backup %s is encrypted: give its encryption key: %w", prefix, ErrWrongKey)
	case len(key) != KeySize:
		return fmt.Errorf("backup %s: an encryption key must be %d bytes: %w", prefix, KeySize, ErrWrongKey)
	case Fingerprint(key) != m.KeyFingerprint:
		return fmt.Errorf("backup %s was encrypted with key %s, not with the key given (%s): %w", prefix, m.KeyFingerprint, Fingerprint(key), ErrWrongKey)
	}
	want, err := manifestMAC(m, key)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(m.MAC)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("backup %s: the manifest's MAC does not match: it was changed after the backup, or forged: %w", prefix, ErrNotAuthentic)
	}
	if err := ownFolder(prefix, m); err != nil {
		return fmt.Errorf("%w: %w", err, ErrNotAuthentic)
	}
	return nil
}

// ownFolder checks that the manifest m names the folder it was read from,
// prefix (<...>/<scope>/<job-id>/): a manifest of another backup is
// refused before anything is downloaded, with or without a key.
func ownFolder(prefix string, m Manifest) error {
	if own := m.Ref().Path(); prefix != own && !strings.HasSuffix(prefix, "/"+own) {
		return fmt.Errorf("backup %s: the manifest is that of backup %s: %w", prefix, own, ErrCorrupt)
	}
	return nil
}

// partChecks returns what reading part p of the backup m checks with key:
// the digest of its raw bytes (keyed when the backup is encrypted) and the
// salt its header must hold (nil when not encrypted). With a key, p must
// be framed: a plain part proves nothing.
func partChecks(m Manifest, p Part, key []byte) (*digest, []byte, error) {
	raw, err := newRawDigest(m, key)
	if err != nil {
		return nil, nil, err
	}
	if key == nil {
		return raw, nil, nil
	}
	if p.Container != ContainerFramed {
		return nil, nil, fmt.Errorf("the part is stored %s, not encrypted, though a key was given: %w", p.Container, ErrNotAuthentic)
	}
	salt, err := hex.DecodeString(p.Salt)
	if err != nil || len(salt) != 32 {
		return nil, nil, fmt.Errorf("the manifest records no salt for the part: %w", ErrNotAuthentic)
	}
	return raw, salt, nil
}
