package dbbackup

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// CapabilitiesKey is the key of a provider's application databag that
// lists the extensions of the wire it supports, as a JSON array of names.
// A provider without it speaks only the seed: its requirer uses no
// extension with it.
const CapabilitiesKey = "capabilities"

// Capability names one extension of the wire (interface/v0/README.md).
type Capability string

// The capabilities defined so far. Readers keep names they do not know
// (a newer peer's), but use only the ones they do.
const (
	// CredentialsSecret: storage-config.credentials-secret names a Juju
	// secret holding the S3 keys, which the job carries masked.
	CredentialsSecret Capability = "credentials-secret"
	// EncryptionSecret: the job names a Juju secret holding the key the
	// backup is encrypted with.
	EncryptionSecret Capability = "encryption-secret"
	// PointInTime: restores to a point in time from archived logs.
	PointInTime Capability = "point-in-time"
	// Physical: physical base backups beside logical dumps.
	Physical Capability = "physical"
)

// Bounds of a capabilities list: a peer cannot make a reader hold more.
const (
	maxCapabilities    = 32
	maxCapabilityName  = 64
	maxCapabilitiesLen = maxCapabilities * (maxCapabilityName + 3)
)

// Capabilities is a provider's list of supported extensions.
type Capabilities []Capability

// Has reports whether c lists capability x.
func (c Capabilities) Has(x Capability) bool { return slices.Contains(c, x) }

// String writes c as its databag value: a JSON array, sorted, each name
// once; "[]" for none.
func (c Capabilities) String() string {
	names := make([]string, 0, len(c))
	for _, x := range c {
		names = append(names, string(x))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	b, _ := json.Marshal(names) // strings only: cannot fail
	return string(b)
}

// ParseCapabilities reads the value of a databag's capabilities key. A
// missing, empty or blank value is no capability. Each name must be
// 1-64 of a-z, 0-9 and "-", starting with a letter; at most 32 names. The
// error names the field ("capabilities", "capabilities[2]"); it may be a
// Problems.
func ParseCapabilities(text string) (Capabilities, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if len(text) > maxCapabilitiesLen {
		return nil, Problems{{Path: CapabilitiesKey, Msg: fmt.Sprintf("is %d bytes, more than %d", len(text), maxCapabilitiesLen)}}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, Problems{{Path: CapabilitiesKey, Msg: "is not a JSON array of names"}}
	}
	if len(raw) > maxCapabilities {
		return nil, Problems{{Path: CapabilitiesKey, Msg: fmt.Sprintf("lists %d names, more than %d", len(raw), maxCapabilities)}}
	}
	var out Capabilities
	var ps problems
	for i, r := range raw {
		path := fmt.Sprintf("%s[%d]", CapabilitiesKey, i)
		var name string
		if err := json.Unmarshal(r, &name); err != nil {
			ps.add(path, "is not a string")
			continue
		}
		if !validCapability(name) {
			ps.add(path, fmt.Sprintf("%.70q is not a capability name: 1-%d of a-z, 0-9 and -, starting with a letter", name, maxCapabilityName))
			continue
		}
		if !out.Has(Capability(name)) {
			out = append(out, Capability(name))
		}
	}
	if err := ps.list.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func validCapability(s string) bool {
	if len(s) == 0 || len(s) > maxCapabilityName || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
