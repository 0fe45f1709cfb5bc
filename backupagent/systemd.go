package backupagent

import (
	"fmt"
	"os"
	"strings"

	"github.com/dbbackup/dbbackup/internal/daemon"
)

// ModeEnv overrides how the runner is run, whatever the charm asks:
// "process" (a detached process, as under jujusim) or "systemd" (a systemd
// service, as on a Juju machine).
const ModeEnv = "DBBACKUP_RUNNER_MODE"

// RunnerMode says how StartRunner runs the runner.
type RunnerMode int

const (
	// RunnerAuto runs a systemd service when the machine runs systemd and
	// the charm runs as root (a Juju machine), else a process.
	RunnerAuto RunnerMode = iota
	// RunnerProcess runs a detached process (under jujusim: the charm's
	// main passes it when charmenv says the model is simulated).
	RunnerProcess
	// RunnerSystemd runs a systemd service.
	RunnerSystemd
)

// systemdAvailable tells whether systemd can run the runner; a variable
// for tests.
var systemdAvailable = daemon.SystemdAvailable

// systemd decides: ModeEnv first, then the mode, then the machine.
func (m RunnerMode) systemd() bool {
	switch os.Getenv(ModeEnv) {
	case "systemd":
		return true
	case "process":
		return false
	}
	switch m {
	case RunnerSystemd:
		return true
	case RunnerProcess:
		return false
	}
	return systemdAvailable()
}

// ServiceName is the systemd service of unit's runner.
func ServiceName(unit string) string {
	return "dbbackup-runner-" + strings.ReplaceAll(unit, "/", "-") + ".service"
}

// ServiceUnit renders the systemd service file that runs exe as unit's
// runner on journal dir; path is the PATH it runs with (juju-exec and the
// database tools must be on it).
func ServiceUnit(exe, dir, unit, path string) string {
	return fmt.Sprintf(`[Unit]
Description=dbbackup job runner of %[3]s
After=network-online.target

[Service]
ExecStart=%[1]q %[4]s --state %[2]q --unit %[3]s
Environment=PATH=%[5]s
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`, exe, dir, unit, RunnerCommand, path)
}
