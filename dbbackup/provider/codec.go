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

type tableDoc struct {
	Version     int          `json:"version"`
	Assignments []Assignment `json:"assignments"`
}

type reportsDoc struct {
	Version int      `json:"version"`
	Reports []Report `json:"reports"`
}

// Marshal writes the table as deterministic JSON, for the leader to store
// in the peer relation's application databag: equal tables give equal text,
// so writing it again changes nothing.
func (as Assignments) Marshal() string {
	doc := tableDoc{Version: FormatVersion, Assignments: as}
	if doc.Assignments == nil {
		doc.Assignments = Assignments{}
	}
	b, _ := json.Marshal(doc) // strings and pointers to them cannot fail
	return string(b)
}

// ParseAssignments reads a table written by Marshal. Empty text is an empty
// table (a fresh databag). Fields it does not know are ignored, so that a
// newer leader's table can still be read during an upgrade; the fields it
// knows are validated.
func ParseAssignments(text string) (Assignments, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var doc tableDoc
	if err := decode(text, &doc.Version, "assignments", &doc.Assignments); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(doc.Assignments))
	for i, a := range doc.Assignments {
		if err := a.validate(); err != nil {
			return nil, fmt.Errorf("cannot read assignment table: assignments[%d]: %w", i, err)
		}
		if seen[a.JobID] {
			return nil, fmt.Errorf("cannot read assignment table: assignments[%d]: duplicate job-id %q", i, a.JobID)
		}
		seen[a.JobID] = true
	}
	return Assignments(doc.Assignments), nil
}

// MarshalReports writes a unit's peer reports as deterministic JSON, for its
// own peer unit databag.
func MarshalReports(rs []Report) string {
	doc := reportsDoc{Version: FormatVersion, Reports: rs}
	if doc.Reports == nil {
		doc.Reports = []Report{}
	}
	b, _ := json.Marshal(doc) // strings only: cannot fail
	return string(b)
}

// ParseReports reads peer reports written by MarshalReports; empty text is
// no report. Unknown fields are ignored, known ones validated.
func ParseReports(text string) ([]Report, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var doc reportsDoc
	if err := decode(text, &doc.Version, "reports", &doc.Reports); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(doc.Reports))
	for i, r := range doc.Reports {
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("cannot read peer reports: reports[%d]: %w", i, err)
		}
		if seen[r.JobID] {
			return nil, fmt.Errorf("cannot read peer reports: reports[%d]: duplicate job-id %q", i, r.JobID)
		}
		seen[r.JobID] = true
	}
	return doc.Reports, nil
}

// decode reads {"version": 1, key: [...]} into version and list.
func decode(text string, version *int, key string, list any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil || raw == nil {
		return fmt.Errorf("cannot read %s: not a JSON object", key)
	}
	v, ok := raw["version"]
	if !ok || json.Unmarshal(v, version) != nil {
		return fmt.Errorf("cannot read %s: version: must be an integer", key)
	}
	if *version != FormatVersion {
		return fmt.Errorf("cannot read %s: version: must be %d, got %d", key, FormatVersion, *version)
	}
	l, ok := raw[key]
	if !ok {
		return fmt.Errorf("cannot read %s: %s: required", key, key)
	}
	if err := json.Unmarshal(l, list); err != nil {
		return fmt.Errorf("cannot read %s: %w", key, err)
	}
	return nil
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
	case final && !a.Outcome.Status.Terminal():
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
	if r.Status != Accepted && r.Status != dbbackup.Running && !r.Status.Terminal() {
		return fmt.Errorf("status: must be %q, %q, %q or %q, got %q", Accepted, dbbackup.Running, dbbackup.Success, dbbackup.Error, r.Status)
	}
	return nil
}
