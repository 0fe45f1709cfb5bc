package dbbackup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// JobsKey is the databag key holding the JSON-encoded list of jobs.
const JobsKey = "jobs"

// Entry is one element of a parsed jobs list: the job as far as it could be
// read, and what is wrong with it. A job with problems is still returned so
// that a provider can report it as an error by its job-id.
type Entry struct {
	// Index is the position of the job in the list.
	Index int
	// Job is the job as read; fields that could not be read are zero.
	Job Job
	// Problems is what is wrong with this job, paths starting "jobs[Index]".
	Problems Problems
}

// Valid reports whether the entry has no problem.
func (e Entry) Valid() bool { return len(e.Problems) == 0 }

// List is a parsed jobs field.
type List struct {
	// Entries holds one entry per object in the array, in order.
	Entries []Entry
	// Problems holds problems of the list itself ("jobs: ...") and of
	// elements that are not objects.
	Problems Problems
}

// Jobs returns the jobs of the valid entries, in order.
func (l List) Jobs() []Job {
	jobs := make([]Job, 0, len(l.Entries))
	for _, e := range l.Entries {
		if e.Valid() {
			jobs = append(jobs, e.Job)
		}
	}
	return jobs
}

// AllProblems returns every problem of the list and of its entries, in order.
func (l List) AllProblems() Problems {
	all := append(Problems(nil), l.Problems...)
	for _, e := range l.Entries {
		all = append(all, e.Problems...)
	}
	return all
}

// ValidJobID reports whether id is a valid job-id (see the interface
// README). It is stricter than v0 (any string): a job-id names an S3 key
// part, so it is 1-128 characters of letters, digits, '.', '_' and '-',
// starting with a letter or digit: ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$.
func ValidJobID(id string) bool {
	if len(id) == 0 || len(id) > 128 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ParseJobs reads the value of the jobs field as written by side. An empty
// value is an empty list. Every problem is returned at once; the entries that
// are objects are returned even when they have problems.
func ParseJobs(text string, side Side) List {
	var l List
	if strings.TrimSpace(text) == "" {
		return l
	}
	b := []byte(text)
	if !validJSON(b) {
		var v any
		err := json.Unmarshal(b, &v)
		l.Problems = Problems{{Path: JobsKey, Msg: jsonErrorText(text, err, "a JSON array of jobs")}}
		return l
	}
	if k := kindOf(b); k != "array" {
		l.Problems = Problems{{Path: JobsKey, Msg: "must be a JSON array of jobs, got " + k}}
		return l
	}
	raws, err := splitArray(b)
	if err != nil {
		l.Problems = Problems{{Path: JobsKey, Msg: "invalid JSON"}}
		return l
	}
	return parseDecoded(raws, side)
}

// parseDecoded reads raw jobs already checked with validJSON.
func parseDecoded(raws []json.RawMessage, side Side) List {
	l := List{Entries: make([]Entry, 0, len(raws))}
	seen := make(map[string]int, len(raws))
	// One buffer for every job's members and one for their inner objects:
	// members are read and dropped before the next job (the values they
	// point to are slices of the text, which the jobs may keep).
	var jobBuf, nestedBuf members
	for i, raw := range raws {
		path := JobsKey + "[" + strconv.Itoa(i) + "]"
		if kindOf(raw) != "object" {
			l.Problems = append(l.Problems, Problem{Path: path, Msg: "must be an object, got " + kindOf(raw)})
			continue
		}
		obj, err := splitObjectInto(jobBuf, raw)
		jobBuf = obj
		if err != nil {
			l.Problems = append(l.Problems, Problem{Path: path, Msg: "invalid JSON"})
			continue
		}
		e := Entry{Index: i}
		var c problems
		e.Job = readJob(obj, side, path, &c, &nestedBuf)
		if id := e.Job.ID; id != "" {
			if first, dup := seen[id]; dup {
				c.add(path+".job-id", fmt.Sprintf("duplicate %q (first at %s[%d])", id, JobsKey, first))
			} else {
				seen[id] = i
			}
		}
		e.Problems = c.list
		l.Entries = append(l.Entries, e)
	}
	return l
}

// jsonErrorText explains a JSON decoding error with its byte offset.
func jsonErrorText(text string, err error, want string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		at := syn.Offset - 1 // the decoder counts the offending byte as read
		if at < 0 {
			at = 0
		}
		return fmt.Sprintf("invalid JSON at byte %d (%s): %v", at, lineCol(text, at), syn)
	case errors.As(err, &typ):
		return fmt.Sprintf("must be %s, got %s", want, typ.Value)
	default:
		return "invalid JSON: " + err.Error()
	}
}

// lineCol turns a 0-based byte offset into "line L, column C" (1-based).
func lineCol(text string, off int64) string {
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := int(off) - strings.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// kindOf names the JSON type of a raw value.
func kindOf(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
