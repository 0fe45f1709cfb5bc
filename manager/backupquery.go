package manager

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// Bounds of list-backups' paging.
const (
	// defaultLimit is how many rows one call of list-backups returns when
	// limit is not given.
	defaultLimit = 50
	// maxOffset bounds the offset parameter: far beyond any bucket the
	// history and the listing can describe.
	maxOffset = 10_000_000
)

// backupQuery is what list-backups is asked: filters and one page.
type backupQuery struct {
	Application string `json:"application"`
	Format      string `json:"format"`
	// State keeps the rows with one of these statuses (comma separated);
	// every status when empty.
	State string `json:"state"`
	// Since and Until bound the backup's time (RFC 3339 or a date, UTC).
	Since string `json:"since"`
	Until string `json:"until"`
	// Limit is the page size (1 to maxRows); Offset the rows skipped.
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	// ShowDeleted lists the backups whose objects were deleted.
	ShowDeleted bool `json:"show-deleted"`
}

// backupFilter is a validated backupQuery.
type backupFilter struct {
	states       map[string]bool
	since, until time.Time
	limit        int
	offset       int
	showDeleted  bool
}

// backupStates are the statuses list-backups shows.
var backupStates = []string{string(dbbackup.Waiting), string(dbbackup.Running), string(dbbackup.Success),
	string(dbbackup.Error), string(dbbackup.Lost), statusIncomplete, statusMissing, statusDeleted}

// filter validates the query; the error names the parameter.
func (q backupQuery) filter() (backupFilter, error) {
	f := backupFilter{limit: q.Limit, offset: q.Offset, showDeleted: q.ShowDeleted}
	if f.limit == 0 {
		f.limit = defaultLimit
	}
	if f.limit < 1 || f.limit > maxRows {
		return f, fmt.Errorf("limit %d is out of range: give 1 to %d", q.Limit, maxRows)
	}
	if f.offset < 0 || f.offset > maxOffset {
		return f, fmt.Errorf("offset %d is out of range: give 0 to %d", q.Offset, maxOffset)
	}
	if q.State != "" {
		if len(q.State) > 200 {
			return f, fmt.Errorf("state is too long: give statuses separated by commas")
		}
		f.states = map[string]bool{}
		for s := range strings.SplitSeq(q.State, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(backupStates, s) {
				return f, fmt.Errorf("state %q is unknown: give one or more of %s", clipText(s, 40), strings.Join(backupStates, ", "))
			}
			f.states[s] = true
			if s == statusDeleted {
				f.showDeleted = true
			}
		}
	}
	var err error
	if f.since, err = parseBound("since", q.Since, false); err != nil {
		return f, err
	}
	if f.until, err = parseBound("until", q.Until, true); err != nil {
		return f, err
	}
	if !f.since.IsZero() && !f.until.IsZero() && f.until.Before(f.since) {
		return f, fmt.Errorf("until %s is before since %s", q.Until, q.Since)
	}
	return f, nil
}

// parseBound reads a time parameter: RFC 3339, or a date (UTC) that as an
// upper bound (end) includes the whole day.
func parseBound(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if len(v) > 40 {
		return time.Time{}, fmt.Errorf("%s is too long: give a time such as 2026-12-05 or 2026-12-05T03:00:00Z", name)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not a time: give one such as 2026-12-05 or 2026-12-05T03:00:00Z", name, v)
	}
	if end {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, nil
}

// backupPage is one page of list-backups.
type backupPage struct {
	Rows []backup
	// Total counts the rows that match, over every page.
	Total int
	// Hidden counts the deleted backups left out (show-deleted=false).
	Hidden int
	// Next is the offset of the next page, 0 on the last.
	Next int
}

// page filters rows (newest first, see backupTime) and cuts one page.
func (f backupFilter) page(rows []backup) backupPage {
	var p backupPage
	for _, r := range rows {
		if r.Status == statusDeleted && !f.showDeleted {
			p.Hidden++
			continue
		}
		if f.states != nil && !f.states[r.Status] {
			continue
		}
		t := backupTime(r)
		if !f.since.IsZero() && t.Before(f.since) || !f.until.IsZero() && t.After(f.until) {
			continue
		}
		if p.Total >= f.offset && len(p.Rows) < f.limit {
			p.Rows = append(p.Rows, r)
		}
		p.Total++
	}
	if end := f.offset + len(p.Rows); end < p.Total {
		p.Next = end
	}
	return p
}

// backupTime is the time list-backups orders and filters a backup by: the
// request time its job id holds, which the manager's one clock wrote for
// every backup (deleted ones included), else its start. Mixing the
// history's times with the manifests' (written by the database units'
// clocks) put rows out of order.
func backupTime(b backup) time.Time {
	if t, ok := requirer.JobIDTime(b.ID); ok {
		return t
	}
	return b.Started
}

// sortBackups orders rows newest first by backupTime, then by id.
func sortBackups(rows []backup) {
	slices.SortStableFunc(rows, func(a, b backup) int {
		if c := backupTime(b).Compare(backupTime(a)); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}
