package backupagent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/runner"
)

func TestLagOf(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	tests := []struct {
		name string
		got  ArchiveLag
		want ArchiveLag
	}{
		{"WAL behind", lagOfWAL(postgres.ArchiveProgress{At: t0, Bytes: 48 << 10, PendingSince: t0.Add(-2500 * time.Millisecond),
			Slot: walSlot, SlotRetained: 5 << 20, SlotStatus: "reserved"}),
			ArchiveLag{At: t0, Bytes: 48 << 10, Seconds: 2.5, Slot: walSlot, Retained: 5 << 20, SlotStatus: "reserved"}},
		{"WAL caught up", lagOfWAL(postgres.ArchiveProgress{At: t0, Bytes: 6, Slot: walSlot, SlotRetained: 0}),
			ArchiveLag{At: t0, Bytes: 6, Slot: walSlot}},
		{"WAL nothing uploaded", lagOfWAL(postgres.ArchiveProgress{At: t0, Bytes: -1, Slot: walSlot, SlotRetained: 100}),
			ArchiveLag{At: t0, Bytes: -1, Why: "starting", Slot: walSlot, Retained: 100}},
		{"WAL denied", lagOfWAL(postgres.ArchiveProgress{At: t0, Bytes: -1, Slot: walSlot, SlotRetained: -1,
			Err: errors.New(`psql: ERROR:  permission denied for function pg_current_wal_lsn; password=hunter2`)}),
			ArchiveLag{At: t0, Bytes: -1, Why: "denied", Slot: walSlot, Retained: -1}},
		{"WAL standby", lagOfWAL(postgres.ArchiveProgress{At: t0, Bytes: -1, Slot: walSlot, SlotStatus: "a long status; DROP TABLE x",
			Err: errors.New(`ERROR:  recovery is in progress`)}),
			ArchiveLag{At: t0, Bytes: -1, Why: "standby", Slot: walSlot, Retained: -1, SlotStatus: "?"}},
		{"binlog behind", lagOfBinlog(mysql.ArchiveProgress{At: t0, Bytes: 100, PendingSince: t0.Add(-12 * time.Second)}),
			ArchiveLag{At: t0, Bytes: 100, Seconds: 12}},
		{"binlog unreachable", lagOfBinlog(mysql.ArchiveProgress{At: t0, Bytes: -1, Err: errors.New("Can't connect")}),
			ArchiveLag{At: t0, Bytes: -1, Why: "unreachable"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
}

// The status shows the lag the archiver measured, or why it is unknown in
// one word; the slot's warning comes first and the status stays active.
func TestStatusShowsLagAndSlotWarning(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fresh := ArchiveLag{At: t0.Add(-5 * time.Second), Bytes: 48 << 10, Seconds: 2.5, Slot: walSlot, Retained: 3 << 30}
	tests := []struct {
		name    string
		lag     *ArchiveLag
		limit   int64
		want    []string
		wantNot []string
	}{
		{"behind", &fresh, 4 << 30, []string{"idle; archiving logs, lag 3 s / 48.0 KiB, last upload"}, []string{"warning"}},
		{"slot over its limit", &fresh, 1 << 30, []string{"warning: replication slot dbbackup_agent holds 3.0 GiB of WAL on the server (over 1.0 GiB); idle; archiving logs, lag 3 s"}, nil},
		{"no limit", &fresh, 0, []string{"lag 3 s"}, []string{"warning"}},
		{"lost", &ArchiveLag{At: t0, Bytes: 1, Slot: walSlot, Retained: 1, SlotStatus: "lost"}, 0, []string{"warning: replication slot dbbackup_agent lost WAL it needed", "lag 0 s / 1 B"}, nil},
		{"stale", &ArchiveLag{At: t0.Add(-time.Minute), Bytes: 1}, 0, []string{"lag unknown (stale)"}, []string{"lag 0"}},
		{"denied", &ArchiveLag{At: t0, Bytes: -1, Why: "denied"}, 0, []string{"lag unknown (denied)"}, nil},
		{"not measured yet", nil, 0, []string{"lag unknown (measuring)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := runner.Journal{Dir: t.TempDir()}
			if _, err := SetArchiving(j, Archiving{On: true, WarnRetained: tt.limit}); err != nil {
				t.Fatal(err)
			}
			if _, err := j.SetValue(archiverStateValue, ArchiverState{Running: true, PID: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := j.SetValue(archiverUploadValue, upload{At: t0, File: "000000010000000000000003"}); err != nil {
				t.Fatal(err)
			}
			if tt.lag != nil {
				if err := recordLag(j, *tt.lag); err != nil {
					t.Fatal(err)
				}
			}
			st, msg := StatusFrom(j, nil, t0)
			if st != "active" {
				t.Errorf("status %s, want active", st)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("status %q, want %q in it", msg, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(msg, w) {
					t.Errorf("status %q, want no %q in it", msg, w)
				}
			}
		})
	}
}

// With archive-logs off, a slot that could not be dropped is a warning;
// one dropped is not.
func TestStatusWarnsOfASlotLeftBehind(t *testing.T) {
	for _, tt := range []struct {
		rec  slotRelease
		want string
	}{
		{slotRelease{Error: "cannot drop replication slot: connection refused"}, "warning: cannot drop replication slot dbbackup_agent, which keeps WAL on the server while archive-logs is off: cannot drop"},
		{slotRelease{InUse: true}, "warning: replication slot dbbackup_agent, which keeps WAL on the server, is in use by another client"},
		{slotRelease{Dropped: true}, ""},
	} {
		j := runner.Journal{Dir: t.TempDir()}
		if _, err := SetArchiving(j, Archiving{Release: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := j.SetValue(slotReleaseValue, tt.rec); err != nil {
			t.Fatal(err)
		}
		_, msg := StatusFrom(j, nil, time.Now())
		if tt.want == "" && msg != "idle" || tt.want != "" && !strings.HasPrefix(msg, tt.want) {
			t.Errorf("%+v: status %q, want %q first", tt.rec, msg, tt.want)
		}
	}
}
