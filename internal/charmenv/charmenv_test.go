package charmenv

import (
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
)

// The seam reads exactly the variables the simulator writes.
func TestVariablesMatchTheSimulator(t *testing.T) {
	if NowVar != jujusim.NowEnv {
		t.Errorf("NowVar = %q, the simulator writes %q", NowVar, jujusim.NowEnv)
	}
}

func TestFromEnv(t *testing.T) {
	at := time.Date(2026, 12, 4, 21, 0, 0, 123, time.UTC)
	tests := []struct {
		name      string
		env       map[string]string
		simulated bool
		manual    bool
	}{
		{"juju", map[string]string{}, false, false},
		{"jujusim on the wall clock", map[string]string{SocketVar: "/tmp/m/agent.socket"}, true, false},
		{"jujusim on a manual clock", map[string]string{SocketVar: "/tmp/m/agent.socket", NowVar: at.Format(time.RFC3339Nano)}, true, true},
		{"unparsable time", map[string]string{SocketVar: "/s", NowVar: "yesterday"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := FromEnv(func(k string) string { return tt.env[k] })
			if h.Simulated != tt.simulated || h.ManualClock() != tt.manual {
				t.Errorf("got simulated %v manual %v, want %v %v", h.Simulated, h.ManualClock(), tt.simulated, tt.manual)
			}
			now := h.Now()
			if tt.manual && !now.Equal(at) {
				t.Errorf("Now = %v, want the manual %v", now, at)
			}
			if !tt.manual && time.Since(now) > time.Minute {
				t.Errorf("Now = %v on the wall clock", now)
			}
		})
	}
}
