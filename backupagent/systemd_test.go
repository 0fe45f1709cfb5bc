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

func TestUseSystemd(t *testing.T) {
	tests := []struct {
		mode, socket string
		want         bool
	}{
		{"systemd", "", true},
		{"process", "", false},
		{"", "/tmp/jujusim/agent.socket", false},
	}
	for _, tt := range tests {
		t.Setenv(ModeEnv, tt.mode)
		t.Setenv("JUJUSIM_SOCKET", tt.socket)
		if got := useSystemd(); got != tt.want {
			t.Errorf("mode %q socket %q: useSystemd = %t, want %t", tt.mode, tt.socket, got, tt.want)
		}
	}
}
