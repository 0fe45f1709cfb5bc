package provider

import (
	"fmt"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Canary credentials: no output of this package may contain them.
const (
	canaryAccess = "AKIACANARY0123456789"
	canarySecret = "canary-secret-Zq8pX3vW"
)

// request builds a valid requested job.
func request(id string, t dbbackup.JobType) dbbackup.Job {
	j := dbbackup.Job{
		ID: id, Type: t, Config: &dbbackup.JobConfig{Compression: true}, StorageInterface: dbbackup.StorageS3,
		Storage: dbbackup.StorageConfig{Bucket: "bkt", Credentials: dbbackup.Credentials{AccessKey: canaryAccess, SecretKey: canarySecret}},
	}
	if t == dbbackup.Restore {
		j.ArtefactPath = "backups/" + id
	}
	return j
}

// list builds a requirer list from specs "b:id" (backup), "r:id" (restore),
// "x:id" (invalid restore: no artefact-path), "n:" (no job-id).
func list(specs ...string) dbbackup.List {
	var l dbbackup.List
	for i, s := range specs {
		kind, id, _ := strings.Cut(s, ":")
		e := dbbackup.Entry{Index: i}
		switch kind {
		case "b":
			e.Job = request(id, dbbackup.Backup)
		case "r":
			e.Job = request(id, dbbackup.Restore)
		case "x":
			e.Job = request(id, dbbackup.Restore)
			e.Job.ArtefactPath = ""
			e.Problems = dbbackup.Problems{{Path: fmt.Sprintf("jobs[%d].artefact-path", i), Msg: "required for a restore (which backup to restore)"}}
		case "n":
			e.Job = request("", dbbackup.Backup)
			e.Problems = dbbackup.Problems{{Path: fmt.Sprintf("jobs[%d].job-id", i), Msg: "required"}}
		default:
			panic("bad spec " + s)
		}
		for _, prev := range l.Entries {
			if id != "" && prev.Job.ID == id {
				e.Problems = append(e.Problems, dbbackup.Problem{Path: fmt.Sprintf("jobs[%d].job-id", i), Msg: "duplicate"})
			}
		}
		l.Entries = append(l.Entries, e)
	}
	return l
}

// rows summarises a table as "id type state unit [status: message]".
func rows(as Assignments) []string {
	out := make([]string, len(as))
	for i, a := range as {
		s := fmt.Sprintf("%s %s %s %s", a.JobID, a.Type, a.State, a.Unit)
		if a.Outcome != nil {
			s += fmt.Sprintf(" [%s: %s]", a.Outcome.Status, a.Outcome.Message)
		}
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// kinds returns the kinds of events, in order.
func kinds(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Kind) + " " + e.JobID
	}
	return out
}

// row builds an assignment.
func row(id string, t dbbackup.JobType, st State, unit string) Assignment {
	return Assignment{JobID: id, Type: t, State: st, Unit: unit}
}

// done builds a finished assignment.
func done(id string, t dbbackup.JobType, st State, unit string, status dbbackup.Status, msg string) Assignment {
	a := row(id, t, st, unit)
	a.Outcome = &Outcome{Status: status, Message: msg}
	return a
}

// rep builds a peer report.
func rep(id string, t dbbackup.JobType, s dbbackup.Status) Report {
	return Report{JobID: id, Type: t, Status: s}
}
