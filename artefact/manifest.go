package artefact

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/dbbackup/dbbackup/engine"
)

// ManifestVersion is the manifest format of a backup without a key;
// ManifestVersionKeyed that of an encrypted backup, whose manifest carries
// a MAC, salts and keyed digests: a dbbackup that knows only version 1
// refuses it with "format-version 2 is not supported" instead of reading
// it as a corrupt backup. This package writes and reads both.
const (
	ManifestVersion      = 1
	ManifestVersionKeyed = 2
)

// maxManifestSize bounds what is read of a manifest object.
const maxManifestSize = 1 << 20

// The values of Manifest.Compression, Manifest.Encryption and Part.Container.
const (
	CompressionZstd = "zstd"
	CompressionNone = "none"
	EncryptionNone  = "none"
	EncryptionAES   = "aes-256-gcm"
	ContainerFramed = "dbbk-v1" // the framed container of frame.go
	ContainerPlain  = "plain"   // the object's bytes as they are (unencrypted logs)
)

// Manifest describes one complete backup. It is written last: a backup
// folder without it is incomplete and is never restored.
type Manifest struct {
	FormatVersion int `json:"format-version"`
	// JobID and Scope name the backup; its objects are under <scope>/<job-id>/.
	JobID string `json:"job-id"`
	Scope string `json:"scope"`
	// Engine is what the database tool reported: kind, method, format,
	// server and tool versions, databases.
	Engine engine.Result `json:"engine"`
	// StartedAt and FinishedAt bound the backup, in UTC.
	StartedAt  time.Time `json:"started-at"`
	FinishedAt time.Time `json:"finished-at"`
	// Compression is "zstd" or "none"; Encryption "none" or "aes-256-gcm".
	Compression string `json:"compression"`
	Encryption  string `json:"encryption"`
	// KeyFingerprint names the encryption key (see Fingerprint), never the key.
	KeyFingerprint string `json:"key-fingerprint,omitempty"`
	// RawDigest says how the raw-sha256 digests are made: "hmac-sha256"
	// (required when encrypted) or "sha256" (meant when absent). See digest.go.
	RawDigest string `json:"raw-digest,omitempty"`
	// Parts are the data objects, in the order their raw bytes are restored.
	Parts []Part `json:"parts"`
	// Log is the job log object.
	Log Part `json:"log"`
	// RawSHA256 is the digest (see RawDigest) of the whole: the raw bytes
	// of every part, in order.
	RawSHA256 string `json:"raw-sha256"`
	// RawBytes and StoredBytes total the parts.
	RawBytes    int64 `json:"raw-bytes"`
	StoredBytes int64 `json:"stored-bytes"`
	// MAC authenticates an encrypted backup's manifest under its key (see
	// mac.go): present exactly when the backup is encrypted. Every field
	// added to Manifest or Part must be omitempty, so that the MAC of a
	// manifest written before it still matches.
	MAC string `json:"mac,omitempty"`
}

// Part is one stored object of a backup.
type Part struct {
	// Name is the object's name inside the backup folder.
	Name string `json:"name"`
	// Container is how the object is written: "dbbk-v1" (framed, verified
	// per frame) or "plain".
	Container string `json:"container"`
	// RawBytes and RawSHA256 describe the bytes before compression and
	// encryption (RawSHA256 made as Manifest.RawDigest says); StoredBytes
	// and SHA256 (always a bare SHA-256) the stored object.
	RawBytes    int64  `json:"raw-bytes"`
	RawSHA256   string `json:"raw-sha256"`
	StoredBytes int64  `json:"stored-bytes"`
	SHA256      string `json:"sha256"`
	// Salt is the salt of the part's header, in hex: recorded, and so
	// authenticated by the MAC, for every part of an encrypted backup, and
	// checked when the part's header is read, so that a part copied from
	// another backup under the same key is refused before its first frame.
	Salt string `json:"salt,omitempty"`
}

var partName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ErrBadManifest is wrapped by every manifest validation error.
var ErrBadManifest = errors.New("bad manifest")

// ParseManifest reads and validates a manifest. Each problem names its field.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if len(data) > maxManifestSize {
		return m, fmt.Errorf("%w: larger than %d bytes", ErrBadManifest, maxManifestSize)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: not valid JSON: %v", ErrBadManifest, err)
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, nil
}

// Validate checks every field of m; the first problem is returned.
func (m Manifest) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadManifest, field, fmt.Sprintf(format, args...))
	}
	switch {
	case m.FormatVersion != ManifestVersion && m.FormatVersion != ManifestVersionKeyed:
		return bad("format-version", "%d is not supported (want %d or %d)", m.FormatVersion, ManifestVersion, ManifestVersionKeyed)
	case m.Encryption == EncryptionAES && m.FormatVersion != ManifestVersionKeyed:
		return bad("format-version", "%d: an encrypted backup's manifest must be version %d, which carries the MAC of its key; an older dbbackup wrote this one without it, and anyone who can write the bucket could have changed it, so it is refused", m.FormatVersion, ManifestVersionKeyed)
	case m.Encryption != EncryptionAES && m.FormatVersion != ManifestVersion:
		return bad("format-version", "%d: the manifest of a backup that is not encrypted is version %d", m.FormatVersion, ManifestVersion)
	case !namePattern.MatchString(m.JobID):
		return bad("job-id", "not a valid job id")
	case !namePattern.MatchString(m.Scope):
		return bad("scope", "not a valid scope")
	case m.Engine.Kind != engine.PostgreSQL && m.Engine.Kind != engine.MySQL:
		return bad("engine.kind", "%q is not postgresql or mysql", m.Engine.Kind)
	case m.Engine.Method == "":
		return bad("engine.method", "required")
	case m.StartedAt.IsZero() || m.FinishedAt.Before(m.StartedAt):
		return bad("finished-at", "must not be before started-at")
	case m.Compression != CompressionZstd && m.Compression != CompressionNone:
		return bad("compression", "%q is not zstd or none", m.Compression)
	case m.Encryption != EncryptionNone && m.Encryption != EncryptionAES:
		return bad("encryption", "%q is not none or aes-256-gcm", m.Encryption)
	case (m.Encryption == EncryptionAES) != (m.KeyFingerprint != ""):
		return bad("key-fingerprint", "present exactly when the backup is encrypted")
	case m.Encryption == EncryptionAES && m.MAC == "":
		return bad("mac", "missing: an encrypted backup's manifest must carry the MAC of its key; without one (an older dbbackup wrote it, or the MAC was removed) anyone who can write the bucket could have changed the manifest, so it is refused")
	case m.Encryption == EncryptionNone && m.MAC != "":
		return bad("mac", "present in the manifest of a backup that is not encrypted")
	case m.MAC != "" && !isSHA256(m.MAC):
		return bad("mac", "not an HMAC-SHA256 in hex")
	case m.Encryption == EncryptionAES && m.RawDigest != RawDigestHMAC:
		return bad("raw-digest", "%q: an encrypted backup's must be %s", m.RawDigest, RawDigestHMAC)
	case m.Encryption == EncryptionNone && m.RawDigest != "" && m.RawDigest != RawDigestSHA256:
		return bad("raw-digest", "%q: an unencrypted backup's must be %s", m.RawDigest, RawDigestSHA256)
	case m.Engine.Method == engine.MethodPhysical && m.Engine.Physical == nil:
		return bad("engine.physical", "required for a physical backup (the WAL positions, timeline and system identifier)")
	case m.Engine.Physical != nil && (m.Engine.Physical.SystemID == "" || m.Engine.Physical.Timeline == 0 ||
		m.Engine.Physical.StartLSN == "" || m.Engine.Physical.EndLSN == "" || m.Engine.Physical.WALSegmentSize <= 0):
		return bad("engine.physical", "system-identifier, timeline, start-lsn, end-lsn and wal-segment-size are required")
	case len(m.Parts) == 0:
		return bad("parts", "at least one data part is required")
	case !isSHA256(m.RawSHA256):
		return bad("raw-sha256", "not a SHA-256 in hex")
	case m.Engine.Binlog != nil && m.Engine.Kind != engine.MySQL:
		return bad("engine.binlog", "present in a %s backup", m.Engine.Kind)
	}
	if b := m.Engine.Binlog; b != nil {
		if err := b.Validate(); err != nil {
			return bad("engine.binlog", "%v", err)
		}
	}
	var raw, stored int64
	for i, p := range append(append([]Part(nil), m.Parts...), m.Log) {
		field := fmt.Sprintf("parts[%d]", i)
		if i == len(m.Parts) {
			field = "log"
		}
		if err := p.validate(); err != nil {
			return bad(field, "%v", err)
		}
		switch encrypted := m.Encryption == EncryptionAES; {
		case encrypted && p.Container != ContainerFramed:
			return bad(field+".container", "every part of an encrypted backup must be %s", ContainerFramed)
		case encrypted && !isSHA256(p.Salt):
			return bad(field+".salt", "every part of an encrypted backup must record its 32-byte salt in hex")
		case !encrypted && p.Salt != "":
			return bad(field+".salt", "present in a backup that is not encrypted")
		}
		if i < len(m.Parts) {
			if p.Container != ContainerFramed {
				return bad(field+".container", "data parts must be %s", ContainerFramed)
			}
			raw += p.RawBytes
			stored += p.StoredBytes
		}
	}
	if raw != m.RawBytes || stored != m.StoredBytes {
		return bad("raw-bytes", "totals do not match the parts")
	}
	return nil
}

func (p Part) validate() error {
	switch {
	case !partName.MatchString(p.Name) || p.Name == ManifestName:
		return fmt.Errorf("name %q is not a valid object name", p.Name)
	case p.Container != ContainerFramed && p.Container != ContainerPlain:
		return fmt.Errorf("container %q is not %s or %s", p.Container, ContainerFramed, ContainerPlain)
	case p.RawBytes < 0 || p.StoredBytes < 0:
		return fmt.Errorf("sizes must not be negative")
	case !isSHA256(p.SHA256) || !isSHA256(p.RawSHA256):
		return fmt.Errorf("sha256 and raw-sha256 must be SHA-256 digests in hex")
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}

// Marshal writes m as indented JSON.
func (m Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot write the manifest: %w", err)
	}
	return append(b, '\n'), nil
}
