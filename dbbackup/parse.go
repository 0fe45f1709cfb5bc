package dbbackup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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

// jobIDPattern is stricter than v0 (any string): a job-id names an S3 key
// part, so it is 1-128 characters of letters, digits, '.', '_' and '-',
// starting with a letter or digit.
var jobIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidJobID reports whether id is a valid job-id (see the interface README).
func ValidJobID(id string) bool { return jobIDPattern.MatchString(id) }

// ParseJobs reads the value of the jobs field as written by side. An empty
// value is an empty list. Every problem is returned at once; the entries that
// are objects are returned even when they have problems.
func ParseJobs(text string, side Side) List {
	var l List
	if strings.TrimSpace(text) == "" {
		return l
	}
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raws); err != nil {
		l.Problems = Problems{{Path: JobsKey, Msg: jsonErrorText(text, err, "a JSON array of jobs")}}
		return l
	}
	if raws == nil { // the text null
		l.Problems = Problems{{Path: JobsKey, Msg: "must be a JSON array of jobs, got null"}}
		return l
	}
	return ParseDecoded(raws, side)
}

// ParseDecoded reads an already decoded jobs array (one raw JSON value per
// job), as found in a document that holds the list rather than its text.
func ParseDecoded(raws []json.RawMessage, side Side) List {
	var l List
	seen := make(map[string]int, len(raws))
	for i, raw := range raws {
		path := fmt.Sprintf("%s[%d]", JobsKey, i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			l.Problems = append(l.Problems, Problem{Path: path, Msg: "must be an object, got " + kindOf(raw)})
			continue
		}
		e := Entry{Index: i}
		var c problems
		e.Job = readJob(obj, side, path, &c)
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
