// Package charmenv is the one seam through which the model in a box
// (jujusim) reaches charm code. Juju sets neither of its variables; under
// jujusim a charm's main reads them once, with Read, and hands what they
// say to the libraries as plain values (a time, a mode), so that no
// library reads the environment for it:
//
//   - NowVar (JUJUSIM_NOW) carries the time of the simulator's manual
//     clock (RFC 3339 with nanoseconds) into every hook, action and
//     juju-exec command; it is unset on the wall clock. A charm takes its
//     time from Host.Now, so a test can move a schedule's clock.
//   - SocketVar (JUJUSIM_SOCKET) names the simulator's hook-tool socket
//     and is set in every hook the simulator runs. Host.Simulated says so:
//     the charm then keeps its background processes plain processes (no
//     systemd service) and, on a manual clock, starts no ticker, since the
//     test drives the hooks.
package charmenv

import (
	"os"
	"time"
)

// The variables jujusim sets (see jujusim.NowEnv and cmd/jujuc).
const (
	NowVar    = "JUJUSIM_NOW"
	SocketVar = "JUJUSIM_SOCKET"
)

// Host is what the environment says about where a charm runs.
type Host struct {
	// Simulated is true under jujusim.
	Simulated bool
	// manual is the manual clock's time; zero on the wall clock.
	manual time.Time
}

// Read reads the simulator's variables of this process's environment.
func Read() Host { return FromEnv(os.Getenv) }

// FromEnv reads the simulator's variables through getenv. A manual time
// that does not parse is ignored: the wall clock is used.
func FromEnv(getenv func(string) string) Host {
	h := Host{Simulated: getenv(SocketVar) != ""}
	if v := getenv(NowVar); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			h.manual = t
		}
	}
	return h
}

// ManualClock reports whether the simulator runs on a manual clock.
func (h Host) ManualClock() bool { return !h.manual.IsZero() }

// Now returns the manual clock's time, or the wall clock's.
func (h Host) Now() time.Time {
	if h.ManualClock() {
		return h.manual
	}
	return time.Now()
}
