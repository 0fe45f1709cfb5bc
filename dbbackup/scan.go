package dbbackup

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// A small scanner over text already checked by validJSON: it splits
// arrays and objects into their raw members without decoding them again,
// which is what makes reading a databag of thousands of jobs fast. On
// invalid input it returns errInvalid rather than guessing.

var errInvalid = errors.New("invalid JSON")

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errInvalid
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errInvalid
	default: // number, true, false, null
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		if j == i {
			return 0, errInvalid
		}
		return j, nil
	}
}

// skipString returns the index just past the string starting at i.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errInvalid
}

// splitArray returns the raw elements of a JSON array.
func splitArray(b []byte) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errInvalid
	}
	var out []json.RawMessage
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return []json.RawMessage{}, nil
	}
	for i < len(b) {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(b[i:end]))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return out, nil
		}
		return nil, errInvalid
	}
	return nil, errInvalid
}

// member is one key and raw value of a JSON object.
type member struct {
	key string
	val json.RawMessage
}

// members is a JSON object as its members in order: for the dozen keys of
// a job, a slice searched from the end beats a map.
type members []member

// get returns the value of key; a repeated key gives its last value, as
// encoding/json does.
func (ms members) get(key string) (json.RawMessage, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return ms[i].val, true
		}
	}
	return nil, false
}

// splitObject returns the members of a JSON object, keys decoded.
func splitObject(b []byte) (members, error) {
	return splitObjectInto(make(members, 0, 8), b)
}

// splitObjectInto is splitObject appending to dst[:0], so that a caller
// reading thousands of jobs reuses one buffer instead of allocating one
// per object.
func splitObjectInto(dst members, b []byte) (members, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errInvalid
	}
	out := dst[:0]
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return nil, errInvalid
		}
		kend, err := skipString(b, i)
		if err != nil {
			return nil, err
		}
		key, ok := unquote(b[i:kend])
		if !ok {
			return nil, errInvalid
		}
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return nil, errInvalid
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key, json.RawMessage(b[i:vend])})
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return out, nil
		}
		return nil, errInvalid
	}
	return nil, errInvalid
}

// intern returns the constant for the keys and values every job repeats,
// so reading them allocates nothing (the switch converts without copying).
func intern(b []byte) (string, bool) {
	switch string(b) {
	case "job-id":
		return "job-id", true
	case "job-type":
		return "job-type", true
	case "job-config":
		return "job-config", true
	case "compression":
		return "compression", true
	case "storage-interface":
		return "storage-interface", true
	case "storage-config":
		return "storage-config", true
	case "artefact-path":
		return "artefact-path", true
	case "status":
		return "status", true
	case "message":
		return "message", true
	case "bucket":
		return "bucket", true
	case "access-key":
		return "access-key", true
	case "secret-key":
		return "secret-key", true
	case "path":
		return "path", true
	case "endpoint":
		return "endpoint", true
	case "region":
		return "region", true
	case "s3-uri-style":
		return "s3-uri-style", true
	case "storage-class":
		return "storage-class", true
	case "tls-ca-chain":
		return "tls-ca-chain", true
	case "s3-api-version":
		return "s3-api-version", true
	case "attributes":
		return "attributes", true
	case "backup":
		return "backup", true
	case "restore":
		return "restore", true
	case "s3":
		return "s3", true
	case "running":
		return "running", true
	case "success":
		return "success", true
	case "error":
		return "error", true
	}
	return "", false
}

// unquote decodes a raw JSON string; strings without escapes take the
// fast path, and the common ones are interned.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	if c, ok := intern(inner); ok {
		return c, true
	}
	return string(inner), true
}
