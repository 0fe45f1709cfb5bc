package dbbackup_test

import (
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// TestStatusWire: every status maps to the wire's vocabulary, and only the
// wire's three statuses are on the wire.
func TestStatusWire(t *testing.T) {
	tests := []struct {
		s        dbbackup.Status
		wire     dbbackup.Status
		onWire   bool
		terminal bool
	}{
		{dbbackup.Running, dbbackup.Running, true, false},
		{dbbackup.Success, dbbackup.Success, true, true},
		{dbbackup.Error, dbbackup.Error, true, true},
		{dbbackup.Pending, dbbackup.Running, false, false},
		{dbbackup.Accepted, dbbackup.Running, false, false},
		{dbbackup.Waiting, "", false, false},
		{dbbackup.Lost, dbbackup.Error, false, true},
		{"requested", "", false, false},
		{"", "", false, false},
	}
	for _, tt := range tests {
		if got := tt.s.Wire(); got != tt.wire {
			t.Errorf("%q.Wire() = %q, want %q", tt.s, got, tt.wire)
		}
		if got := tt.s.OnWire(); got != tt.onWire {
			t.Errorf("%q.OnWire() = %t, want %t", tt.s, got, tt.onWire)
		}
		if got := tt.s.Terminal(); got != tt.terminal {
			t.Errorf("%q.Terminal() = %t, want %t", tt.s, got, tt.terminal)
		}
		if w := tt.s.Wire(); w != "" && !w.OnWire() {
			t.Errorf("%q.Wire() = %q is not on the wire", tt.s, w)
		}
	}
}
