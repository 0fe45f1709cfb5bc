package pitr

import (
	"os"
	"runtime/debug"
)

// ArchiverMemoryLimit is the soft memory limit of a log archiver (WAL or
// binary logs, in the command line or under the backup agent): the
// collector runs more often rather than let the heap grow to twice what
// is live, for an archiver that runs for months beside the database.
const ArchiverMemoryLimit = 20 << 20

// LimitArchiverMemory sets ArchiverMemoryLimit as the process's soft
// memory limit unless GOMEMLIMIT sets one, and returns what puts the
// previous limit back.
func LimitArchiverMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(ArchiverMemoryLimit)
	return func() { debug.SetMemoryLimit(old) }
}
