package daemon

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// systemdDir is where service files go; a variable for tests.
var systemdDir = "/etc/systemd/system"

// SystemdAvailable reports whether a daemon can be a systemd service here:
// the machine runs systemd, this process is root and systemctl is on PATH.
func SystemdAvailable() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return false
	}
	_, err := exec.LookPath("systemctl")
	return err == nil
}

// StartService installs (or updates) the systemd service name with the
// service file body and starts it; the service is restarted when its file
// changed. The service's name is recorded in the daemon's folder, so that
// Stop disables and removes it.
func (d Daemon) StartService(name, body string) error {
	if name == "" || strings.ContainsAny(name, "/\n") {
		return fmt.Errorf("cannot install %s: service name %q is not a file name", d.name(), name)
	}
	file := filepath.Join(systemdDir, name)
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot install %s: %w", d.name(), err)
	}
	if err := WriteFile(filepath.Join(d.Dir, serviceRecord), []byte(name+"\n"), 0o600); err != nil {
		return fmt.Errorf("cannot install %s: %w", d.name(), err)
	}
	old, _ := os.ReadFile(file)
	if !bytes.Equal(old, []byte(body)) {
		if err := WriteFile(file, []byte(body), 0o644); err != nil {
			return fmt.Errorf("cannot install %s: %w", d.name(), err)
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

// stopService stops and removes the service name and its record.
func (d Daemon) stopService(name string) error {
	record := filepath.Join(d.Dir, serviceRecord)
	file := filepath.Join(systemdDir, name)
	if _, err := os.Stat(file); err != nil {
		return os.Remove(record)
	}
	if err := systemctl("disable", "--now", name); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil {
		return fmt.Errorf("cannot remove %s's service file: %w", d.name(), err)
	}
	os.Remove(record)
	return systemctl("daemon-reload")
}

// systemctl runs systemctl with args.
func systemctl(args ...string) error {
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
