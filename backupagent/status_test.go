package backupagent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/runner"
)

func TestStatusFrom(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	running := runner.Record{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Running, Started: t0, Bytes: 120e6}
	pending := runner.Record{JobID: "j2", Type: dbbackup.Backup, Status: dbbackup.Pending}
	done := runner.Record{JobID: "j0", Type: dbbackup.Backup, Status: dbbackup.Success}
	tests := []struct {
		name    string
		recs    []runner.Record
		health  string
		wantSt  goops.StatusName
		wantMsg string
	}{
		{"idle", []runner.Record{done}, `{"ok":true}`, goops.StatusActive, "idle"},
		{"running", []runner.Record{done, running, pending}, "", goops.StatusActive, "backup j1 120 MB at 60 MB/s (+1 more)"},
		{"waiting", []runner.Record{pending}, "", goops.StatusActive, "1 job(s) waiting"},
		{"blocked", []runner.Record{running}, `{"ok":false,"message":"cannot connect to PostgreSQL at 127.0.0.1:5432: refused"}`,
			goops.StatusBlocked, "cannot connect to PostgreSQL at 127.0.0.1:5432: refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := runner.Journal{Dir: t.TempDir()}
			if tt.health != "" {
				if err := os.WriteFile(filepath.Join(j.Dir, "health.json"), []byte(tt.health), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st, msg := StatusFrom(j, tt.recs, t0.Add(2*time.Second))
			if st != tt.wantSt || msg != tt.wantMsg {
				t.Errorf("StatusFrom = %s %q, want %s %q", st, msg, tt.wantSt, tt.wantMsg)
			}
		})
	}
}
