package runner

import (
	"fmt"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// Progress is the message of a running job: "backup job-x 120 MB at 45
// MB/s", with a percentage when the total is known.
func Progress(r Record, now time.Time) string {
	s := fmt.Sprintf("%s %s", r.Type, r.JobID)
	if r.Status == dbbackup.Pending {
		return s + " waiting"
	}
	secs := now.Sub(r.Started).Seconds()
	if r.Total > 0 {
		s += fmt.Sprintf(" %d%%", min(100, r.Bytes*100/r.Total))
	}
	s += " " + Size(r.Bytes)
	if secs >= 1 {
		s += " at " + Size(int64(float64(r.Bytes)/secs)) + "/s"
	}
	return s
}

// Size prints a byte count for a person: 0 B, 512 kB, 120 MB, 3.2 GB.
func Size(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d kB", n/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%d MB", n/1000/1000)
	default:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	}
}
