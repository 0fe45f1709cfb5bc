package requirer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// problems collects what is wrong with a history, at JSON paths.
type problems struct{ list dbbackup.Problems }

func (c *problems) add(path, format string, args ...any) {
	c.list = append(c.list, dbbackup.Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// checkRequest records what is wrong with the fields every record has from
// its request on.
func checkRequest(r Record, path string, c *problems) {
	if !dbbackup.ValidJobID(r.JobID) {
		c.add(path+".job-id", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, got %q", clipID(r.JobID))
	}
	if r.Application == "" {
		c.add(path+".application", "required")
	} else if strings.ContainsAny(r.Application, "/ \t\r\n") {
		c.add(path+".application", "must be an application name (no '/' or white space), got %q", clipID(r.Application))
	}
	switch r.Type {
	case dbbackup.Backup, dbbackup.Restore:
	default:
		c.add(path+".job-type", "must be %q or %q, got %q", dbbackup.Backup, dbbackup.Restore, clipID(string(r.Type)))
	}
	switch r.Source {
	case FromAction, FromSchedule:
	default:
		c.add(path+".source", "must be %q or %q, got %q", FromAction, FromSchedule, clipID(string(r.Source)))
	}
	if r.Type == dbbackup.Restore && r.ArtefactPath == "" {
		c.add(path+".artefact-path", "required for a restore (which backup to restore)")
	}
	if r.Storage.Bucket == "" {
		c.add(path+".storage.bucket", "required")
	}
	if r.RequestedAt.IsZero() {
		c.add(path+".requested-at", "required")
	}
}

// checkRecord records what is wrong with a stored record, including the
// consistency of its status with its other fields.
func checkRecord(r Record, path string, c *problems) {
	checkRequest(r, path, c)
	switch {
	case !validStatus(r.Status):
		c.add(path+".status", "must be waiting, running, success, error or lost, got %q", clipID(string(r.Status)))
	case r.Status == dbbackup.Waiting && (r.Unit != "" || !r.StartedAt.IsZero() || !r.FinishedAt.IsZero()):
		c.add(path+".status", "waiting, but it has a unit, a start or a finish time")
	case r.Status == dbbackup.Running && (r.Unit == "" || r.StartedAt.IsZero() || !r.FinishedAt.IsZero()):
		c.add(path+".status", "running needs a unit and a start time, and no finish time")
	case r.Status.Terminal() && r.FinishedAt.IsZero():
		c.add(path+".finished-at", "required for a %s job", r.Status)
	case (r.Status == dbbackup.Success || r.Status == dbbackup.Error) && r.Unit == "":
		c.add(path+".unit", "required for a %s job (the unit that reported it)", r.Status)
	}
	if len(r.Message) > MaxMessage {
		c.add(path+".message", "longer than %d bytes", MaxMessage)
	}
	if !utf8.ValidString(r.Message) {
		c.add(path+".message", "must be valid UTF-8")
	}
	switch {
	case r.Method == "":
	case r.Type != dbbackup.Backup:
		c.add(path+".method", "only a backup has one")
	case r.Method != dbbackup.MethodPhysical:
		c.add(path+".method", "must be empty (logical) or %q, got %q", dbbackup.MethodPhysical, clipID(string(r.Method)))
	}
	switch {
	case r.RestoreToTime.IsZero():
	case r.Type != dbbackup.Restore:
		c.add(path+".restore-to-time", "only a restore has one")
	case r.ArtefactPath == "":
		c.add(path+".restore-to-time", "needs artefact-path, the base backup to start from")
	}
	switch {
	case r.KeyFingerprint == "":
	case r.Type != dbbackup.Backup:
		c.add(path+".key-fingerprint", "only a backup has one")
	case !keyFingerprint.MatchString(r.KeyFingerprint):
		c.add(path+".key-fingerprint", "must be 16 lowercase hex digits, got %q", clipID(r.KeyFingerprint))
	}
}

// keyFingerprint is the form of artefact.Fingerprint.
var keyFingerprint = regexp.MustCompile(`^[0-9a-f]{16}$`)

// clipID shortens a value for an error message; no value checked here is a
// credential (a history has none).
func clipID(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "..."
}
