package backupagent

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dbbackup/dbbackup/runner"
)

// ModeEnv overrides how the runner is run: "process" (a detached process,
// as under jujusim) or "systemd" (a systemd service, as on a Juju
// machine). By default systemd is used when the machine runs systemd, the
// charm runs as root and it is not under jujusim.
const ModeEnv = "DBBACKUP_RUNNER_MODE"

// systemdDir is where service files go; a variable for tests.
var systemdDir = "/etc/systemd/system"

// useSystemd decides how to run the runner.
func useSystemd() bool {
	switch os.Getenv(ModeEnv) {
	case "systemd":
		return true
	case "process":
		return false
	}
	if os.Getenv("JUJUSIM_SOCKET") != "" || os.Geteuid() != 0 {
		return false
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return false
	}
	_, err := exec.LookPath("systemctl")
	return err == nil
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

// serviceFile names the journal file that records the service's name, for
// StopRunner.
func serviceFile(j runner.Journal) string { return filepath.Join(j.Dir, "service") }

// startService installs (or updates) and starts unit's runner service.
func startService(j runner.Journal, unit, exe string) error {
	name := ServiceName(unit)
	file := filepath.Join(systemdDir, name)
	body := []byte(ServiceUnit(exe, j.Dir, unit, os.Getenv("PATH")))
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot install the runner service: %w", err)
	}
	if err := os.WriteFile(serviceFile(j), []byte(name+"\n"), 0o600); err != nil {
		return fmt.Errorf("cannot install the runner service: %w", err)
	}
	old, _ := os.ReadFile(file)
	if !bytes.Equal(old, body) {
		if err := os.WriteFile(file, body, 0o644); err != nil {
			return fmt.Errorf("cannot install the runner service: %w", err)
		}
		if err := systemctl("daemon-reload"); err != nil {
			return err
		}
		if len(old) > 0 {
			return systemctl("restart", name)
		}
	}
	return systemctl("enable", "--now", name)
}

// stopService stops and removes the runner service name.
func stopService(j runner.Journal, name string) error {
	file := filepath.Join(systemdDir, name)
	if _, err := os.Stat(file); err != nil {
		return os.Remove(serviceFile(j))
	}
	if err := systemctl("disable", "--now", name); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil {
		return fmt.Errorf("cannot remove the runner service: %w", err)
	}
	os.Remove(serviceFile(j))
	return systemctl("daemon-reload")
}

func systemctl(args ...string) error {
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
