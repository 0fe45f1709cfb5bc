package provider

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// FormatVersion is the version of the assignment table and peer report
// documents written by Marshal and MarshalReports.
const FormatVersion = 1

// Marshal writes the table as deterministic JSON, for the leader to store
// in the peer relation's application databag: equal tables give equal text,
// so writing it again changes nothing.
func (as Assignments) Marshal() string { return marshalDoc("assignments", as) }

// ParseAssignments reads a table written by Marshal. Empty text is an empty
// table (a fresh databag). Fields it does not know are ignored, so that a
// newer leader's table can still be read during an upgrade; the fields it
// knows are validated.
func ParseAssignments(text string) (Assignments, error) {
	return parseDoc[Assignment](text, "assignments")
}

// MarshalReports writes a unit's peer reports as deterministic JSON, for its
// own peer unit databag.
func MarshalReports(rs []Report) string { return marshalDoc("reports", rs) }

// ParseReports reads peer reports written by MarshalReports; empty text is
// no report. Unknown fields are ignored, known ones validated.
func ParseReports(text string) ([]Report, error) {
	return parseDoc[Report](text, "reports")
}

// docRow is a row of a document: an assignment or a report.
type docRow interface {
	jobID() string
	validate() error
}

func (a Assignment) jobID() string { return a.JobID }
func (r Report) jobID() string     { return r.JobID }

// marshalDoc writes {"version": FormatVersion, key: rows}.
func marshalDoc[T any](key string, rows []T) string {
	if rows == nil {
		rows = []T{}
	}
	b, _ := json.Marshal(rows) // strings and pointers to them cannot fail
	return fmt.Sprintf(`{"version":%d,%q:%s}`, FormatVersion, key, b)
}

// parseDoc reads {"version": FormatVersion, key: [rows]} and validates
// each row and the uniqueness of job-ids.
func parseDoc[T docRow](text, key string) ([]T, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("cannot read %s: not a JSON object", key)
	}
	var version int
	if v, ok := raw["version"]; !ok || json.Unmarshal(v, &version) != nil {
		return nil, fmt.Errorf("cannot read %s: version: must be an integer", key)
	}
	if version != FormatVersion {
		return nil, fmt.Errorf("cannot read %s: version: must be %d, got %d", key, FormatVersion, version)
	}
	l, ok := raw[key]
	if !ok {
		return nil, fmt.Errorf("cannot read %s: %s: required", key, key)
	}
	var rows []T
	if err := json.Unmarshal(l, &rows); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", key, err)
	}
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("cannot read %s: %s[%d]: %w", key, key, i, err)
		}
		if seen[r.jobID()] {
			return nil, fmt.Errorf("cannot read %s: %s[%d]: duplicate job-id %q", key, key, i, r.jobID())
		}
		seen[r.jobID()] = true
	}
	return rows, nil
}

// unitName is a Juju unit name: application name, slash, number.
var unitName = regexp.MustCompile(`^[a-z][a-z0-9-]*/[0-9]+$`)

// ValidUnitName reports whether name is a Juju unit name such as "db/0".
func ValidUnitName(name string) bool { return unitName.MatchString(name) }

func validType(t dbbackup.JobType) error {
	if t != dbbackup.Backup && t != dbbackup.Restore {
		return fmt.Errorf("job-type: must be %q or %q, got %q", dbbackup.Backup, dbbackup.Restore, t)
	}
	return nil
}

// validate checks one row of the table.
func (a Assignment) validate() error {
	if !dbbackup.ValidJobID(a.JobID) {
		return fmt.Errorf("job-id: invalid %q", a.JobID)
	}
	if err := validType(a.Type); err != nil {
		return err
	}
	switch a.State {
	case Waiting:
		if a.Unit != "" {
			return fmt.Errorf("unit: must be empty while waiting, got %q", a.Unit)
		}
	case Released, Running, Done, Settled:
		if !ValidUnitName(a.Unit) {
			return fmt.Errorf("unit: must be a unit name such as db/0, got %q", a.Unit)
		}
	default:
		return fmt.Errorf("state: unknown %q", a.State)
	}
	final := a.State == Done || a.State == Settled
	switch {
	case final && a.Outcome == nil:
		return fmt.Errorf("outcome: required in state %s", a.State)
	case !final && a.Outcome != nil:
		return fmt.Errorf("outcome: not allowed in state %s", a.State)
	case final && (!a.Outcome.Status.OnWire() || !a.Outcome.Status.Terminal()):
		return fmt.Errorf("outcome.status: must be %q or %q, got %q", dbbackup.Success, dbbackup.Error, a.Outcome.Status)
	}
	return nil
}

// validate checks one peer report.
func (r Report) validate() error {
	if !dbbackup.ValidJobID(r.JobID) {
		return fmt.Errorf("job-id: invalid %q", r.JobID)
	}
	if err := validType(r.Type); err != nil {
		return err
	}
	if r.Status != dbbackup.Accepted && !r.Status.OnWire() {
		return fmt.Errorf("status: must be %q, %q, %q or %q, got %q", dbbackup.Accepted, dbbackup.Running, dbbackup.Success, dbbackup.Error, r.Status)
	}
	return nil
}
