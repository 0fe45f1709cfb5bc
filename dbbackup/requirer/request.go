package requirer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Errors CanRequest returns, wrapped in a message naming the application.
var (
	// ErrTooManyPending: the application already has limit jobs waiting or running.
	ErrTooManyPending = errors.New("too many pending jobs")
	// ErrRestoreRunning: another restore of the application is waiting or running.
	ErrRestoreRunning = errors.New("another restore is pending")
)

// ErrDuplicateJob is returned, wrapped, by Request when the history already
// has a record with the job id.
var ErrDuplicateJob = errors.New("duplicate job id")

// CanRequest says whether a new job of type typ may be requested for app:
// it refuses when limit jobs of app are already waiting or running
// (ErrTooManyPending), and a restore while another restore of app is
// waiting or running (ErrRestoreRunning). The error text is for the admin.
// A limit of zero or less refuses every request.
func CanRequest(h History, app string, typ dbbackup.JobType, limit int) error {
	pending := h.Pending(app)
	if typ == dbbackup.Restore {
		for _, r := range pending {
			if r.Type == dbbackup.Restore {
				where := "waiting for a unit to pick it up"
				if r.Status == dbbackup.Running {
					where = "running on " + r.Unit
				}
				return fmt.Errorf("cannot request a restore of %s: restore %s is %s; wait for it to finish: %w",
					app, r.JobID, where, ErrRestoreRunning)
			}
		}
	}
	if len(pending) >= limit {
		return fmt.Errorf("cannot request a %s of %s: %d jobs are already waiting or running (limit %d); wait for some to finish: %w",
			typ, app, len(pending), limit, ErrTooManyPending)
	}
	return nil
}

// Request returns h with r added as a waiting job. r needs a valid, unused
// job id, an application, a job type, a source, the storage's bucket, the
// request time and, for a restore, the artefact path; the fields a unit
// reports are reset. It does not apply the limits of CanRequest. As it
// adds no terminal record, it never compacts (Merge does).
func Request(h History, r Record) (History, error) {
	r.RequestedAt = stamp(r.RequestedAt)
	r.StartedAt, r.SeenAt, r.FinishedAt = time.Time{}, time.Time{}, time.Time{}
	r.Unit, r.Message, r.Status = "", "", dbbackup.Waiting
	var c problems
	checkRequest(r, "job", &c)
	if err := c.list.Err(); err != nil {
		return h, fmt.Errorf("cannot request job %q: %w", clipID(r.JobID), err)
	}
	i, dup := h.index(r.JobID)
	if dup {
		return h, fmt.Errorf("cannot request job %q: %w", r.JobID, ErrDuplicateJob)
	}
	return History{Records: slices.Insert(slices.Clone(h.Records), i, r), Dropped: slices.Clone(h.Dropped)}, nil
}
