package requirer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Retention says which successful backups of an application to keep: the
// Count most recent, and those that finished less than Days days ago.
// With both set a backup is kept when either rule keeps it (deletion needs
// both to agree); with neither set every backup is kept.
type Retention struct {
	// Count keeps the Count most recent successful backups; 0 is unset.
	Count int
	// Days keeps the backups younger than Days days; 0 is unset.
	Days int
}

// Set reports whether r deletes anything at all.
func (r Retention) Set() bool { return r.Count > 0 || r.Days > 0 }

// String says the rule for a log line, such as "retention-count=7,
// retention-days=30".
func (r Retention) String() string {
	var parts []string
	if r.Count > 0 {
		parts = append(parts, "retention-count="+strconv.Itoa(r.Count))
	}
	if r.Days > 0 {
		parts = append(parts, "retention-days="+strconv.Itoa(r.Days))
	}
	if len(parts) == 0 {
		return "no retention"
	}
	return strings.Join(parts, ", ")
}

// MaxRetention bounds retention-count and retention-days.
const MaxRetention = 100000

// CheckRetentionValue validates one value of retention-count or
// retention-days: a whole number from 0 (unset) to MaxRetention.
func CheckRetentionValue(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > MaxRetention {
		return fmt.Errorf("%q is not a whole number from 0 (keep all) to %d", clipID(v), MaxRetention)
	}
	return nil
}

// RetentionFor returns app's retention from the parsed retention-count and
// retention-days values (see ParsePerApp with CheckRetentionValue).
func RetentionFor(count, days PerApp, app string) Retention {
	c, _ := strconv.Atoi(strings.TrimSpace(count.For(app)))
	d, _ := strconv.Atoi(strings.TrimSpace(days.For(app)))
	return Retention{Count: max(c, 0), Days: max(d, 0)}
}

// Kept is a successful backup retention looks at.
type Kept struct {
	// ID is the backup's job id.
	ID string
	// FinishedAt is when it finished (its manifest's end time).
	FinishedAt time.Time
	// InUse is true when a waiting or running restore reads it.
	InUse bool
}

// Expire returns, among the successful backups of one application, those
// that r lets go at now, oldest first. It never returns the most recent
// backup (so never the only one), nor one in use by a restore; a backup
// with an unknown finish time counts as finishing now (it is kept by age).
func Expire(r Retention, backups []Kept, now time.Time) []Kept {
	if !r.Set() || len(backups) < 2 {
		return nil
	}
	sorted := slices.Clone(backups)
	slices.SortStableFunc(sorted, func(a, b Kept) int {
		if c := finish(b, now).Compare(finish(a, now)); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	var out []Kept
	for i, k := range sorted {
		switch {
		case i == 0, k.InUse:
			continue
		case r.Count > 0 && i < r.Count:
			continue
		case r.Days > 0 && now.Sub(finish(k, now)) < time.Duration(r.Days)*24*time.Hour:
			continue
		}
		out = append(out, k)
	}
	slices.Reverse(out)
	return out
}

// finish is k's finish time, now when unknown.
func finish(k Kept, now time.Time) time.Time {
	if k.FinishedAt.IsZero() {
		return now
	}
	return k.FinishedAt
}
