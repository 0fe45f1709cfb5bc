package manager

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/metrics"
)

// On a clock the test moves: the status warns first once the last
// successful backup is older than backup-max-age, and the leader's
// published metrics carry the backup and the threshold.
func TestStatusWarnsOfAnOldBackup(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("manager", map[string]string{"backup-max-age": "24h"})
	s.ok("manager/0", "create-backup", nil)
	if got := s.status("manager/0"); got != "active: last backup of pg just now: success" {
		t.Fatalf("status = %q", got)
	}
	s.tick(clock, 23*time.Hour)
	if got := s.status("manager/0"); got != "active: last backup of pg 23h ago: success" {
		t.Errorf("within the threshold: status = %q", got)
	}
	s.tick(clock, 3*time.Hour)
	if got, want := s.status("manager/0"), "active: warning: last backup of pg 26h ago (threshold 24h); last backup of pg 26h ago: success"; got != want {
		t.Errorf("past the threshold: status = %q, want %q", got, want)
	}
	p, err := metrics.ReadPublished(filepath.Join(s.m.Dir(), "units", "unit-manager-0", "dbbackup-ticker", metricsFile))
	if err != nil {
		t.Fatal(err)
	}
	pg, ok := p.Snapshot.Find("pg", "")
	if !ok || pg.MaxAge != 24*time.Hour || !pg.LastSuccess.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) || len(pg.Counts) != 1 || pg.Counts[0].Jobs != 1 {
		t.Errorf("published: %+v", p)
	}
	if p.Address != s.metricsAddr {
		t.Errorf("published address %q, want the configured %q", p.Address, s.metricsAddr)
	}
	s.config("manager", map[string]string{"metrics-address": "db.example.com:9570"})
	if got := s.status("manager/0"); got != `blocked: invalid config: metrics-address: invalid metrics address: "db.example.com:9570": host must be an IP address, "localhost" or empty for every interface` {
		t.Errorf("a bad address: status = %q", got)
	}
}

// The size in the bucket of the last backup is published without a
// retention policy (no hook lists the bucket for retention then): on the
// old code it stayed unknown, and the dashboard's "Last backup size" panel
// was empty.
func TestLastBackupSizeWithoutRetention(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.ok("manager/0", "create-backup", nil)
	s.m.UpdateStatus()
	s.settle()
	p, err := metrics.ReadPublished(filepath.Join(s.m.Dir(), "units", "unit-manager-0", "dbbackup-ticker", metricsFile))
	if err != nil {
		t.Fatal(err)
	}
	pg, ok := p.Snapshot.Find("pg", "")
	if !ok || len(pg.Last) == 0 {
		t.Fatalf("published: %+v", p)
	}
	for _, j := range pg.Last {
		if j.Type == "backup" && j.StoredBytes <= 0 {
			t.Errorf("the last backup's stored size is %d, want its size in the bucket", j.StoredBytes)
		}
	}
}
