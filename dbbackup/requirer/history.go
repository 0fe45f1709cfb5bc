package requirer

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// HistoryKey is the key of the history in the manager's peer application
// databag.
const HistoryKey = "job-history"

// MaxCompleted is how many terminal records Merge keeps; the
// earliest finished beyond it are counted in History.Dropped (see the
// package doc and MaxHistoryBytes).
const MaxCompleted = 1000

// History is the manager's full record of jobs. Records are sorted by job
// id, which is their request order for ids made by NewJobID. Functions of
// this package never modify a History they are given; they return a new one.
type History struct {
	// Records holds one record per job, sorted by job id.
	Records []Record
	// Dropped counts the terminal records dropped to bound the history, per
	// application, sorted by application.
	Dropped []Dropped
}

// Dropped summarises the terminal records of one application that were
// dropped from the history to bound its size.
type Dropped struct {
	// Application is the related database application.
	Application string `json:"application"`
	// Success, Error and Lost count the dropped records by status.
	Success int `json:"success,omitempty"`
	Error   int `json:"error,omitempty"`
	Lost    int `json:"lost,omitempty"`
	// FinishedThrough is the latest finish time of the dropped records:
	// every job kept in the history finished at or after it.
	FinishedThrough time.Time `json:"finished-through,omitzero"`
}

// Find returns the record of job id and whether there is one.
func (h History) Find(id string) (Record, bool) {
	i, ok := h.index(id)
	if !ok {
		return Record{}, false
	}
	return h.Records[i], true
}

// index returns the position of id in the sorted records, or where it would go.
func (h History) index(id string) (int, bool) {
	i := sort.Search(len(h.Records), func(i int) bool { return h.Records[i].JobID >= id })
	return i, i < len(h.Records) && h.Records[i].JobID == id
}

// clone returns a copy of h that shares nothing mutable with it.
func (h History) clone() History {
	return History{Records: slices.Clone(h.Records), Dropped: slices.Clone(h.Dropped)}
}

// Pending returns the waiting and running records of app, in job id order.
func (h History) Pending(app string) []Record {
	var out []Record
	for _, r := range h.Records {
		if r.Application == app && !r.Status.Terminal() {
			out = append(out, r)
		}
	}
	return out
}

// Compact returns h keeping at most maxRecords terminal records taking at
// most maxBytes in the stored history, and how many records it dropped. The
// records that finished first (then the smallest job ids) are dropped and
// counted in Dropped, so the history keeps the most recently finished jobs.
// Non-terminal records are always kept.
func Compact(h History, maxRecords, maxBytes int) (History, int) {
	type finish struct {
		at   time.Time
		id   string
		size int
	}
	var done []finish
	total := 0
	for _, r := range h.Records {
		if r.Status.Terminal() {
			f := finish{r.FinishedAt, r.JobID, recordSize(r)}
			done = append(done, f)
			total += f.size
		}
	}
	if len(done) <= maxRecords && total <= maxBytes {
		return h, 0
	}
	slices.SortFunc(done, func(a, b finish) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	drop := map[string]bool{}
	for _, f := range done {
		if len(done)-len(drop) <= maxRecords && total <= maxBytes {
			break
		}
		drop[f.id] = true
		total -= f.size
	}
	out := History{Records: make([]Record, 0, len(h.Records)-len(drop)), Dropped: slices.Clone(h.Dropped)}
	for _, r := range h.Records {
		if drop[r.JobID] {
			out.Dropped = countDropped(out.Dropped, r)
			continue
		}
		out.Records = append(out.Records, r)
	}
	return out, len(drop)
}

// countDropped adds r to the summary of its application.
func countDropped(ds []Dropped, r Record) []Dropped {
	i := sort.Search(len(ds), func(i int) bool { return ds[i].Application >= r.Application })
	if i == len(ds) || ds[i].Application != r.Application {
		ds = slices.Insert(ds, i, Dropped{Application: r.Application})
	}
	d := &ds[i]
	switch r.Status {
	case dbbackup.Success:
		d.Success++
	case dbbackup.Error:
		d.Error++
	default:
		d.Lost++
	}
	if r.FinishedAt.After(d.FinishedThrough) {
		d.FinishedThrough = r.FinishedAt
	}
	return ds
}
