package backupagent

import (
	"strings"
	"testing"
)

func TestServiceUnit(t *testing.T) {
	got := ServiceUnit("/var/lib/juju/agents/unit-agent-0/charm/dispatch", "/var/lib/juju/agents/unit-agent-0/dbbackup-runner", "agent/0", "/usr/bin:/bin")
	for _, want := range []string{
		`ExecStart="/var/lib/juju/agents/unit-agent-0/charm/dispatch" runner --state "/var/lib/juju/agents/unit-agent-0/dbbackup-runner" --unit agent/0`,
		"Environment=PATH=/usr/bin:/bin",
		"Restart=on-failure",
		"WantedBy=multi-user.target",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("service unit lacks %q:\n%s", want, got)
		}
	}
	if got, want := ServiceName("agent/0"), "dbbackup-runner-agent-0.service"; got != want {
		t.Errorf("ServiceName = %q, want %q", got, want)
	}
}

// The runner's mode: ModeEnv wins, then the charm's mode, then the
// machine (simulated here as having systemd, so the default would pick it).
func TestRunnerMode(t *testing.T) {
	old := systemdAvailable
	systemdAvailable = func() bool { return true }
	t.Cleanup(func() { systemdAvailable = old })
	tests := []struct {
		env  string
		mode RunnerMode
		want bool
	}{
		{"systemd", RunnerProcess, true},
		{"process", RunnerAuto, false},
		{"", RunnerProcess, false}, // what the agent's main passes under jujusim
		{"", RunnerSystemd, true},
		{"", RunnerAuto, true},
	}
	for _, tt := range tests {
		t.Setenv(ModeEnv, tt.env)
		if got := tt.mode.systemd(); got != tt.want {
			t.Errorf("%s=%q mode %d: systemd %t, want %t", ModeEnv, tt.env, tt.mode, got, tt.want)
		}
	}
	systemdAvailable = func() bool { return false }
	t.Setenv(ModeEnv, "")
	if RunnerAuto.systemd() {
		t.Error("RunnerAuto picks systemd on a machine without it")
	}
}
