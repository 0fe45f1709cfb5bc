// Package bytesize formats byte counts for people, and tells the time a
// transfer of bytes has left (ETA).
package bytesize

import "fmt"

// IEC formats n with binary units: "512 B", "1.5 KiB", "34.6 MiB".
func IEC(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
