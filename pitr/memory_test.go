package pitr

import (
	"runtime/debug"
	"testing"
)

// LimitArchiverMemory sets the archiver's soft limit and puts the previous
// one back; a GOMEMLIMIT of the admin's wins.
func TestLimitArchiverMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	restore := LimitArchiverMemory()
	if got := debug.SetMemoryLimit(-1); got != ArchiverMemoryLimit {
		t.Errorf("limit %d while archiving, want %d", got, ArchiverMemoryLimit)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit %d after, want the previous %d", got, before)
	}

	t.Setenv("GOMEMLIMIT", "100MiB")
	restore = LimitArchiverMemory()
	got := debug.SetMemoryLimit(-1)
	restore()
	if got != before {
		t.Errorf("with GOMEMLIMIT set the limit became %d (was %d)", got, before)
	}
}
