package bytesize

import "time"

// ETA returns the time left to move total bytes when done of them took
// elapsed, at the average rate so far, rounded to the second. It is false
// when that cannot be told: no total, nothing done or no time passed yet,
// or everything done.
func ETA(done, total int64, elapsed time.Duration) (time.Duration, bool) {
	if total <= 0 || done <= 0 || done >= total || elapsed <= 0 {
		return 0, false
	}
	left := float64(total-done) * float64(elapsed) / float64(done)
	if left > float64(1<<62) { // a rate too slow to tell
		return 0, false
	}
	return time.Duration(left).Round(time.Second), true
}
