package manager

import (
	"regexp"
	"strconv"
	"time"

	"github.com/dbbackup/dbbackup/internal/bytesize"
)

// percentPattern finds the share done in a running job's message, as the
// agent writes it ("restore job-x 40% 120 MB at 45 MB/s").
var percentPattern = regexp.MustCompile(`(?:^|\s)(\d{1,3})%`)

// progressETA estimates the time a running job has left from the share
// done its message reports and the time since it started, by the one
// computation the command line uses (bytesize.ETA). It is false when the
// message has no percentage (a backup, whose size is known only at the
// end) or the job has not started.
func progressETA(msg string, started, now time.Time) (time.Duration, bool) {
	if started.IsZero() || len(msg) > 1000 {
		return 0, false
	}
	m := percentPattern.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	pct, err := strconv.Atoi(m[1])
	if err != nil || pct > 100 {
		return 0, false
	}
	return bytesize.ETA(int64(pct), 100, now.Sub(started))
}
