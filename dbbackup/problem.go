package dbbackup

import (
	"sort"
	"strings"
)

// Problem is one thing wrong with a databag, at a JSON path such as
// "jobs[1].storage-config.bucket". Its message never holds a credential.
type Problem struct {
	// Path is the JSON path of the offending value, "jobs" for the whole list.
	Path string
	// Msg says what is wrong, in words a person can act on.
	Msg string
}

// String formats p as "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Problems is every problem found in one databag; its error text has one
// line per problem, path first.
type Problems []Problem

// Error joins the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns ps as an error, or nil when there is no problem.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Sorted returns the problems ordered by path, then message, for stable output.
func (ps Problems) Sorted() Problems {
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Msg < out[j].Msg
	})
	return out
}

// WithPrefix returns a copy of ps whose paths start with prefix, for a
// databag found inside a larger document (a unit of `juju show-unit`).
func (ps Problems) WithPrefix(prefix string) Problems {
	out := make(Problems, len(ps))
	for i, p := range ps {
		out[i] = Problem{Path: prefix + p.Path, Msg: p.Msg}
	}
	return out
}

// problems collects problems while a value is read.
type problems struct{ list Problems }

func (c *problems) add(path, msg string) { c.list = append(c.list, Problem{Path: path, Msg: msg}) }
