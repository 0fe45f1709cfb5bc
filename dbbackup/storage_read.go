package dbbackup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// bucketOK matches ^[^/\x00-\x20\x7f]+$ (the schema's pattern).
func bucketOK(s string) bool {
	return s != "" && !strings.ContainsRune(s, '/') && !hasSpaceOrControl(s)
}

// endpointOK matches ^https?://[^/@\x00-\x20\x7f]+(/[^\x00-\x20\x7f]*)?$.
func endpointOK(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	return host != "" && !strings.ContainsRune(host, '@') && !hasSpaceOrControl(rest)
}

// attributeOK matches ^[A-Za-z0-9!#$%&'*+.^_|~-]+=[^\n]*$: a header token,
// "=", and a value on one line.
func attributeOK(s string) bool {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" || strings.ContainsRune(value, '\n') {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && !strings.ContainsRune("!#$%&'*+.^_|~-", rune(c)) {
			return false
		}
	}
	return true
}

// hasSpaceOrControl reports whether s holds a byte in \x00-\x20 or \x7f.
func hasSpaceOrControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

var storageKeys = map[string]bool{
	"bucket": true, "access-key": true, "secret-key": true, "path": true, "endpoint": true,
	"region": true, "s3-uri-style": true, "storage-class": true, "tls-ca-chain": true,
	"s3-api-version": true, "attributes": true,
}

// readStorage reads a storage-config object (the s3 interface's fields),
// normalising the shapes the ecosystem writes (see interface/v0/README.md).
func readStorage(f field) StorageConfig {
	var s StorageConfig
	s.Bucket = f.nonEmpty("bucket")
	if s.Bucket != "" && !bucketOK(s.Bucket) {
		f.c.add(f.path()+".bucket", "must be a bucket name, without '/' or white space")
		s.Bucket = ""
	}
	s.AccessKey = f.nonEmpty("access-key")
	s.SecretKey = f.nonEmpty("secret-key")
	if p, ok := f.str("path", false); ok {
		if msg := keyPathProblem(p); msg != "" {
			f.c.add(f.path()+".path", msg)
		} else {
			s.Path = p
		}
	}
	if e, ok := f.str("endpoint", false); ok && e != "" {
		if endpointOK(e) {
			s.Endpoint = e
		} else {
			f.c.add(f.path()+".endpoint", "must be an http:// or https:// URL, without credentials or white space")
		}
	}
	s.Region, _ = f.str("region", false)
	s.StorageClass, _ = f.str("storage-class", false)
	s.URIStyle = f.oneOf("s3-uri-style", false, "path", "host")
	s.TLSCAChain, _ = f.stringList("tls-ca-chain", nil)
	var at []int
	s.Attributes, at = f.stringList("attributes", splitAttributes)
	for i, a := range s.Attributes {
		if !attributeOK(a) {
			f.c.add(fmt.Sprintf("%s.attributes[%d]", f.path(), at[i]), "must be Name=value, Name a header token")
		}
	}
	s.APIVersion = f.apiVersion("s3-api-version")
	s.Extra = f.extra(storageKeys)
	return s
}

// stringList reads a list of strings written as a JSON array (the schema),
// as a string holding a JSON array (data-platform-libs), or as a plain
// string (the s3 README), which split turns into items (nil: one item).
// It also returns each item's index for messages ("attributes[2]"),
// counting in the array as written (or the ";"-separated items of a plain
// string).
func (f field) stringList(key string, split func(string) []string) ([]string, []int) {
	v, ok := f.raw(key)
	if !ok {
		return nil, nil
	}
	path := f.path() + "." + key
	switch kindOf(v) {
	case "array":
		return f.arrayOfStrings(v, path, true)
	case "string":
		s, ok := unquote(v)
		if !ok {
			f.c.add(path, "must be a string")
			return nil, nil
		}
		// Only JSON's own white space may precede the array, as a JSON
		// parser would have it.
		if t := strings.Trim(s, jsonSpace); strings.HasPrefix(t, "[") {
			if !validJSON([]byte(t)) {
				f.c.add(path, "holds a string that starts like a JSON array but is not an array of strings")
				return nil, nil
			}
			return f.arrayOfStrings(json.RawMessage(t), path, false)
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		items := []string{s}
		if split != nil {
			items = split(s)
		}
		idx := make([]int, len(items))
		for i := range idx {
			idx[i] = i
		}
		return items, idx
	default:
		f.c.add(path, "must be an array of strings or a string, got "+kindOf(v))
		return nil, nil
	}
}

const jsonSpace = " \t\n\r"

// arrayOfStrings reads a JSON array whose items must all be strings. A
// wrong item of an array written inside a string (indexed false) is
// reported at the field itself, as a JSON Schema validator does.
func (f field) arrayOfStrings(v json.RawMessage, path string, indexed bool) ([]string, []int) {
	items, err := splitArray(v)
	if err != nil {
		if indexed {
			f.c.add(path, "must be an array of strings")
		} else {
			f.c.add(path, "holds a string that starts like a JSON array but is not an array of strings")
		}
		return nil, nil
	}
	out := make([]string, 0, len(items))
	idx := make([]int, 0, len(items))
	for i, it := range items {
		s, ok := unquote(it)
		if kindOf(it) != "string" || !ok {
			if indexed {
				f.c.add(fmt.Sprintf("%s[%d]", path, i), "must be a string, got "+kindOf(it))
			} else {
				f.c.add(path, fmt.Sprintf("item %d of the JSON array in the string must be a string, got %s", i, kindOf(it)))
			}
			continue
		}
		out = append(out, s)
		idx = append(idx, i)
	}
	return out, idx
}

// splitAttributes splits the s3 README's ";"-joined attributes.
func splitAttributes(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ";") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// apiVersion reads s3-api-version: the integer 2 or 4, or a string holding it.
func (f field) apiVersion(key string) int {
	v, ok := f.raw(key)
	if !ok {
		return 0
	}
	path := f.path() + "." + key
	var text string
	switch kindOf(v) {
	case "number":
		// A JSON number: 4, 4.0 and 4e0 are all the integer 4.
		if x, err := strconv.ParseFloat(string(v), 64); err == nil && (x == 2 || x == 4) {
			return int(x)
		}
		text = string(v)
	case "string":
		text, _ = unquote(v)
		text = strings.TrimSpace(text)
	default:
		f.c.add(path, "must be 2 or 4, got "+kindOf(v))
		return 0
	}
	n, err := strconv.Atoi(text)
	if err != nil || (n != 2 && n != 4) {
		f.c.add(path, fmt.Sprintf("must be 2 or 4, got %q", truncate(text, 20)))
		return 0
	}
	return n
}

// truncate shortens s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ParseStorageConfig reads a storage configuration given on its own (a
// storage-config object as JSON, with the s3 interface's field names), with
// the same normalisation and validation as inside a job. Problem paths
// start with "storage-config".
func ParseStorageConfig(data []byte) (StorageConfig, Problems) {
	var c problems
	f := field{parent: "storage-config", c: &c}
	var raw json.RawMessage = data
	var err error
	if kindOf(raw) != "object" || !validJSON(raw) {
		return StorageConfig{}, Problems{{Path: "storage-config", Msg: "must be a JSON object of the s3 interface's fields"}}
	}
	if f.obj, err = splitObject(raw); err != nil {
		return StorageConfig{}, Problems{{Path: "storage-config", Msg: "must be a JSON object of the s3 interface's fields"}}
	}
	s := readStorage(f)
	return s, c.list
}
