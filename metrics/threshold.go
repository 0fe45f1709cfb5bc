package metrics

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidThreshold is wrapped by every refusal of Threshold.
var ErrInvalidThreshold = errors.New("invalid backup age threshold")

// The bounds of a backup age threshold.
const (
	MinThreshold = time.Minute
	MaxThreshold = 400 * 24 * time.Hour
)

// Threshold returns how old the last successful backup may grow before
// the BackupTooOld alert fires. A configured value (a Go duration such as
// "36h") wins; otherwise it is derived from the schedule's interval: one
// interval and a half, and at least one interval and an hour, so a daily
// schedule alerts after 36 hours, once a backup was missed and the next
// is late. Zero, with neither, means no threshold (the alert stays off).
func Threshold(configured string, interval time.Duration) (time.Duration, error) {
	if configured != "" {
		if len(configured) > 32 {
			return 0, fmt.Errorf("%w: longer than 32 bytes", ErrInvalidThreshold)
		}
		d, err := time.ParseDuration(configured)
		if err != nil {
			return 0, fmt.Errorf("%w: %q: want a duration such as 36h or 90m", ErrInvalidThreshold, configured)
		}
		if d < MinThreshold || d > MaxThreshold {
			return 0, fmt.Errorf("%w: %q: must be from %v to %v", ErrInvalidThreshold, configured, MinThreshold, MaxThreshold)
		}
		return d, nil
	}
	if interval <= 0 {
		return 0, nil
	}
	if interval > MaxThreshold {
		return MaxThreshold, nil
	}
	d := interval + interval/2
	if d < interval+time.Hour {
		d = interval + time.Hour
	}
	return min(d, MaxThreshold), nil
}
