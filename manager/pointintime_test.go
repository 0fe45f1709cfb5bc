package manager

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store/s3"
)

const allCaps = `["credentials-secret", "encryption-secret", "point-in-time", "physical"]`

// Restore to a point in time through the manager: refused for a provider
// that does not advertise point-in-time and for a time outside every
// window (naming the windows); with a base and archived binary logs, the
// manager picks the base, and the job reaches the provider with
// restore-to-time; list-backups shows the window.
func TestRestoreToTimeThroughTheManager(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("my", "mysql")
	s.addS3("v0", "")
	leader := "manager/0"
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	s.refused(leader, "restore", map[string]any{"restore-to-time": "yesterday"}, `restore-to-time "yesterday" is not an RFC 3339 time`)
	s.refused(leader, "restore", map[string]any{"restore-to-time": "1960-01-01T00:00:00Z"}, "outside 1971-2105")
	s.refused(leader, "restore", map[string]any{"restore-to-time": later}, "does not advertise point-in-time (it advertises: [\"credentials-secret\",\"encryption-secret\"])")
	s.refused(leader, "create-backup", map[string]any{"method": "physical"}, "does not advertise physical")
	s.config("my", map[string]string{"capabilities": allCaps})

	base := s.ok(leader, "create-backup", nil)["job-id"].(string)
	s.refused(leader, "restore", map[string]any{"restore-to-time": later}, "cannot restore my to "+later+": outside every recoverable window: it has none")

	s.archiveBinlog("my")
	res := s.ok(leader, "list-backups", map[string]any{"format": "json"})
	var ws []pitr.Window
	if err := json.Unmarshal([]byte(res["windows"].(string)), &ws); err != nil {
		t.Fatalf("windows %q: %v", res["windows"], err)
	}
	if len(ws) != 1 || ws[0].JobID != base || ws[0].Scope != "my" || !ws[0].Until.After(ws[0].From) {
		t.Fatalf("windows = %+v, want one of %s", ws, base)
	}
	if table := s.ok(leader, "list-backups", nil)["windows"].(string); !strings.Contains(table, base) || !strings.Contains(table, "until") {
		t.Errorf("windows table:\n%s", table)
	}

	at := ws[0].From.Add(ws[0].Until.Sub(ws[0].From) / 2)
	when := at.Format(time.RFC3339Nano)
	got := s.ok(leader, "restore", map[string]any{"restore-to-time": when})
	if got["backup-id"] != base || got["restore-to-time"] != when {
		t.Errorf("restore = %v, want base %s and time %s", got, base, when)
	}
	show := s.ok(leader, "show-job", map[string]any{"job-id": got["job-id"]})
	if show["status"] != "success" || show["restore-to-time"] != when || !strings.HasSuffix(show["message"].(string), " to "+when) {
		t.Errorf("show-job = %v: the provider did not get restore-to-time %s", show, when)
	}

	// Outside the window, given a base or not: refused, naming it.
	after := ws[0].Until.Add(time.Minute).Format(time.RFC3339)
	s.refused(leader, "restore", map[string]any{"restore-to-time": after}, "outside every recoverable window: my/"+base+" from "+ws[0].From.Format(time.RFC3339))
	before := ws[0].From.Add(-time.Minute).Format(time.RFC3339)
	s.refused(leader, "restore", map[string]any{"restore-to-time": before, "backup-id": base}, "its recoverable window is my/"+base)
	s.refused(leader, "restore", map[string]any{"restore-to-time": when, "backup-id": "job-nope"}, "backup job-nope not found")

	// A physical backup goes to a provider that advertises it, with its
	// method.
	phys := s.ok(leader, "create-backup", map[string]any{"method": "physical"})["job-id"]
	if show := s.ok(leader, "show-job", map[string]any{"job-id": phys}); show["method"] != "physical" || show["status"] != "success" {
		t.Errorf("show-job of the physical backup = %v", show)
	}
	if show := s.ok(leader, "show-job", map[string]any{"job-id": base}); show["method"] != nil {
		t.Errorf("show-job of the logical backup = %v: it carries a method", show)
	}
}

// A pending restore to a time waits while its provider no longer
// advertises point-in-time, and goes out once it does again.
func TestRestoreToTimeHeldBackWithoutTheCapability(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("my", "mysql")
	s.addS3("v0", "")
	s.config("my", map[string]string{"capabilities": allCaps})
	leader := "manager/0"
	s.ok(leader, "create-backup", nil)
	s.archiveBinlog("my")
	s.config("my", map[string]string{"mode": "hold"})
	var ws []pitr.Window
	if err := json.Unmarshal([]byte(s.ok(leader, "list-backups", map[string]any{"format": "json"})["windows"].(string)), &ws); err != nil || len(ws) != 1 {
		t.Fatalf("windows: %v %v", ws, err)
	}
	id := s.ok(leader, "restore", map[string]any{"restore-to-time": ws[0].Until.Format(time.RFC3339Nano)})["job-id"].(string)
	s.config("my", map[string]string{"capabilities": `["credentials-secret"]`})
	s.m.UpdateStatus()
	s.settle()
	if strings.Contains(s.jobsRequested("my"), id) {
		t.Fatalf("the restore to a time reached a provider that does not advertise point-in-time:\n%s", s.jobsRequested("my"))
	}
	s.config("my", map[string]string{"capabilities": allCaps})
	s.m.UpdateStatus()
	s.settle()
	if !strings.Contains(s.jobsRequested("my"), `"restore-to-time"`) {
		t.Fatalf("the restore to a time did not go out once the capability was back:\n%s", s.jobsRequested("my"))
	}
}

// archiveBinlog stores, as a provider's archiver does, the binary log a
// fake MariaDB backup of scope stands in, a second after the backup
// (object times are whole seconds), as the file being written.
func (s *sim) archiveBinlog(scope string) {
	s.t.Helper()
	time.Sleep(1100 * time.Millisecond)
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	tail := mysql.BinlogPiece{File: "mariadb-bin.000001", Kind: mysql.PieceTail}
	if err := (pitr.Archive{Store: st, Scope: scope}).Binlogs().Put(context.Background(), tail, strings.NewReader("events")); err != nil {
		s.t.Fatal(err)
	}
}
