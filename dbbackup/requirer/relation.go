package requirer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// ErrNoStorage: the storage configuration lacks its bucket or credentials.
var ErrNoStorage = errors.New("incomplete storage configuration")

// RelationJobs returns the jobs the manager requests from app: its waiting
// and running records, in job id order, with storage (credentials included,
// as the v0 relation carries them) applied at write time. At most limit
// jobs are returned: running ones first, then the oldest waiting ones; the
// rest stay waiting in the history until there is room (their lost timeout
// runs all the same; CanRequest keeps this from happening). A change of the
// storage configuration reaches the pending jobs at the next write. Write
// them with
// dbbackup.Databag.SetJobs(jobs, dbbackup.Requirer). It fails when limit is
// not positive or storage lacks its bucket or a credential (ErrNoStorage).
func RelationJobs(h History, app string, storage dbbackup.StorageConfig, limit int) ([]dbbackup.Job, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("cannot write the jobs of %s: limit %d, want at least 1", app, limit)
	}
	var missing []string
	for _, f := range []struct{ name, value string }{{"bucket", storage.Bucket}, {"access-key", storage.AccessKey}, {"secret-key", storage.SecretKey}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cannot write the jobs of %s: storage configuration has no %s (is an s3-integrator related and configured?): %w",
			app, strings.Join(missing, ", "), ErrNoStorage)
	}
	pending := h.Pending(app)
	if len(pending) > limit {
		slices.SortStableFunc(pending, func(a, b Record) int {
			if (a.Status == dbbackup.Running) != (b.Status == dbbackup.Running) {
				if a.Status == dbbackup.Running {
					return -1
				}
				return 1
			}
			return strings.Compare(a.JobID, b.JobID)
		})
		pending = pending[:limit]
		slices.SortFunc(pending, func(a, b Record) int { return strings.Compare(a.JobID, b.JobID) })
	}
	jobs := make([]dbbackup.Job, len(pending))
	for i, r := range pending {
		jobs[i] = dbbackup.Job{
			ID:               r.JobID,
			Type:             r.Type,
			Config:           &dbbackup.JobConfig{Compression: r.Compression},
			StorageInterface: dbbackup.StorageS3,
			Storage:          storage,
		}
		if r.Type == dbbackup.Restore {
			jobs[i].ArtefactPath = r.ArtefactPath
		}
		jobs[i] = jobs[i].WithMethod(r.Method).WithRestoreToTime(r.RestoreToTime)
	}
	return jobs, nil
}
