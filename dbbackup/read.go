package dbbackup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// field reads one known field of a JSON object, recording problems under path.
type field struct {
	obj members
	// parent and key name the object: its path is parent.key, or parent
	// when key is empty; it is built only when a problem is recorded.
	parent, key string
	c           *problems
	// nested, when set, is the buffer reused for the members of the
	// objects inside this one; each is read to the end before the next.
	nested *members
}

// path returns the object's JSON path.
func (f field) path() string {
	if f.key == "" {
		return f.parent
	}
	return f.parent + "." + f.key
}

// raw returns the raw value of key, whether it is present.
func (f field) raw(key string) (json.RawMessage, bool) {
	v, ok := f.obj.get(key)
	return v, ok
}

// str reads a string field; a missing required field or a wrong type is a problem.
func (f field) str(key string, required bool) (string, bool) {
	v, ok := f.obj.get(key)
	if !ok {
		if required {
			f.c.add(f.path()+"."+key, "required")
		}
		return "", false
	}
	s, ok := unquote(v)
	if kindOf(v) != "string" || !ok {
		f.c.add(f.path()+"."+key, "must be a string, got "+kindOf(v))
		return "", false
	}
	return s, true
}

// nonEmpty reads a required string that must not be empty.
func (f field) nonEmpty(key string) string {
	s, ok := f.str(key, true)
	if ok && s == "" {
		f.c.add(f.path()+"."+key, "must not be empty")
	}
	return s
}

// oneOf reads a string that must be one of allowed; it names the bad value,
// so it must never be used for a credential.
func (f field) oneOf(key string, required bool, allowed ...string) string {
	s, ok := f.str(key, required)
	if !ok {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	f.c.add(f.path()+"."+key, fmt.Sprintf("must be %s, got %q", orList(allowed), s))
	return ""
}

// object reads a field that must be a JSON object.
func (f field) object(key string, required bool) (field, bool) {
	v, ok := f.obj.get(key)
	sub := field{parent: f.path(), key: key, c: f.c}
	if !ok {
		if required {
			f.c.add(sub.path(), "required")
		}
		return sub, false
	}
	var err error
	if kindOf(v) != "object" {
		f.c.add(sub.path(), "must be an object, got "+kindOf(v))
		return sub, false
	}
	if f.nested != nil {
		sub.obj, err = splitObjectInto(*f.nested, v)
		*f.nested = sub.obj
	} else {
		sub.obj, err = splitObject(v)
	}
	if err != nil {
		f.c.add(sub.path(), "invalid JSON")
		return sub, false
	}
	return sub, true
}

// extra returns the fields of the object not named in known, compacted.
func (f field) extra(known map[string]bool) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	for _, m := range f.obj {
		k, v := m.key, m.val
		if known[k] {
			continue
		}
		if out == nil {
			out = make(map[string]json.RawMessage)
		}
		out[k] = compact(v)
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compact returns v without insignificant white space, so that writing
// the same jobs gives the same bytes.
func compact(v json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return append(json.RawMessage(nil), v...)
	}
	return json.RawMessage(b.Bytes())
}

// orList formats allowed values as `"a" or "b"`.
func orList(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = fmt.Sprintf("%q", a)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// keyPathProblem explains why p is not a safe key path, or returns "".
// A key path is relative to its prefix: it must not climb out with "..",
// nor hold control characters.
func keyPathProblem(p string) string {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return `must not contain ".." segments (it would escape its prefix)`
		}
	}
	if hasControl(p) {
		return "must not contain control characters"
	}
	return ""
}

// hasControl reports whether s holds a byte in \x00-\x1f or \x7f.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

var jobKeys = map[Side]map[string]bool{
	Requirer: {"job-id": true, "job-type": true, "job-config": true, "storage-interface": true, "storage-config": true, "artefact-path": true},
	Provider: {"job-id": true, "job-type": true, "job-config": true, "storage-interface": true, "storage-config": true, "artefact-path": true, "status": true, "message": true},
}

// readJob reads one job object written by side.
// nested, when not nil, is reused for the job's inner objects.
func readJob(obj members, side Side, path string, c *problems, nested *members) Job {
	f := field{obj: obj, parent: path, c: c, nested: nested}
	var j Job
	if id, ok := f.str("job-id", true); ok {
		switch {
		case id == "":
			c.add(path+".job-id", "must not be empty")
		case !ValidJobID(id):
			c.add(path+".job-id", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (it names an S3 key part)")
		default:
			j.ID = id
		}
	}
	j.Type = JobType(f.oneOf("job-type", true, string(Backup), string(Restore)))
	if cfg, ok := f.object("job-config", side == Requirer); ok {
		j.Config = readJobConfig(cfg)
	}
	j.StorageInterface = f.oneOf("storage-interface", true, StorageS3)
	if sc, ok := f.object("storage-config", true); ok {
		j.Storage = readStorage(sc)
	}
	ap, apOK := f.str("artefact-path", false)
	if apOK {
		if msg := keyPathProblem(ap); msg != "" {
			c.add(path+".artefact-path", msg)
		} else {
			j.ArtefactPath = ap
		}
	}
	if side == Requirer && j.Type == Restore {
		if _, present := obj.get("artefact-path"); !present {
			c.add(path+".artefact-path", "required for a restore (which backup to restore)")
		} else if apOK && ap == "" {
			c.add(path+".artefact-path", "must not be empty for a restore")
		}
	}
	if side == Provider {
		j.Status = Status(f.oneOf("status", true, string(Running), string(Success), string(Error)))
		j.Message, _ = f.str("message", false)
	}
	j.Extra = f.extra(jobKeys[side])
	return j
}

// readJobConfig reads job-config: {"compression": bool}, no other key (v0).
func readJobConfig(f field) *JobConfig {
	cfg := &JobConfig{}
	v, ok := f.raw("compression")
	switch {
	case !ok:
		f.c.add(f.path()+".compression", "required")
	case kindOf(v) != "boolean":
		f.c.add(f.path()+".compression", "must be a boolean, got "+kindOf(v))
	default:
		cfg.Compression = string(bytes.TrimSpace(v)) == "true"
	}
	for _, k := range sortedKeys(f.extra(map[string]bool{"compression": true})) {
		f.c.add(f.path()+"."+k, "unknown field (v0 job-config allows only compression)")
	}
	return cfg
}
