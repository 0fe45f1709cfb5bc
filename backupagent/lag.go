package backupagent

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/bytesize"
	"github.com/dbbackup/dbbackup/runner"
)

// archiverLagValue is where the archiver records its last measurement of
// the lag (ArchiveLag), every lagEvery.
const archiverLagValue = "archiver-lag.json"

// lagEvery is how often the archiver measures its lag: one query to the
// server it streams from, by the archiver itself, so no hook connects to
// the database to show it. A measurement older than lagStale (the
// archiver stopped measuring) is not shown as the lag.
var (
	lagEvery = 10 * time.Second
	lagStale = 3 * lagEvery
)

// ArchiveLag is how far the log archive is behind the server, as the
// archiver last measured it.
type ArchiveLag struct {
	// At is when it was measured.
	At time.Time `json:"at"`
	// Bytes is how much the server's log holds past what is uploaded;
	// Seconds how long ago the oldest of it was received (or seen on the
	// server). Both are valid when Why is empty.
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	// Why says in one word why the lag is unknown: "starting" (nothing
	// uploaded yet), "denied" (the account may not read the position),
	// "unreachable" (the query failed otherwise).
	Why string `json:"why,omitempty"`
	// Slot is the PostgreSQL replication slot, Retained the WAL it holds
	// back on the server (bytes; -1 unknown) and SlotStatus its wal_status.
	Slot       string `json:"slot,omitempty"`
	Retained   int64  `json:"retained,omitempty"`
	SlotStatus string `json:"slot-status,omitempty"`
}

// lagOfWAL turns a WAL archiver's measurement into the agent's.
func lagOfWAL(p postgres.ArchiveProgress) ArchiveLag {
	l := ArchiveLag{At: p.At.UTC(), Bytes: p.Bytes, Slot: p.Slot, Retained: p.SlotRetained, SlotStatus: oneWord(p.SlotStatus)}
	l.Seconds, l.Why = lagSeconds(p.At, p.PendingSince, p.Bytes, p.Err)
	if p.Err != nil {
		l.Retained = -1
	}
	return l
}

// lagOfBinlog turns a binary log archiver's measurement into the agent's.
func lagOfBinlog(p mysql.ArchiveProgress) ArchiveLag {
	l := ArchiveLag{At: p.At.UTC(), Bytes: p.Bytes}
	l.Seconds, l.Why = lagSeconds(p.At, p.PendingSince, p.Bytes, p.Err)
	return l
}

// lagSeconds is the lag in seconds, or why it is unknown.
func lagSeconds(at, since time.Time, bytes int64, err error) (float64, string) {
	switch {
	case err != nil:
		return 0, whyWord(err)
	case bytes < 0:
		return 0, "starting"
	case since.IsZero() || since.After(at):
		return 0, ""
	}
	return math.Round(at.Sub(since).Seconds()*10) / 10, ""
}

// whyWord names in one word why a measurement failed: never the error's
// text, which is in the archiver's log.
func whyWord(err error) string {
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "permission denied") || strings.Contains(s, "access denied") || strings.Contains(s, "privilege"):
		return "denied"
	case strings.Contains(s, "recovery is in progress"):
		return "standby"
	}
	return "unreachable"
}

// oneWord bounds a word the server gave (wal_status).
func oneWord(s string) string {
	if len(s) > 16 || strings.ContainsAny(s, " \n\t;") {
		return "?"
	}
	return s
}

// recordLag keeps the archiver's last measurement for the status.
func recordLag(j runner.Journal, l ArchiveLag) error {
	if _, err := j.SetValue(archiverLagValue, l); err != nil {
		return fmt.Errorf("cannot record the archive's lag: %w", err)
	}
	return nil
}

// readLag reads the archiver's last measurement; false when none.
func readLag(j runner.Journal) (ArchiveLag, bool) {
	var l ArchiveLag
	err := j.Value(archiverLagValue, &l)
	return l, err == nil
}

// lagText is the lag for the status: "lag 3 s / 48 KiB", or why it is
// unknown in one word ("lag unknown (stale)").
func lagText(l ArchiveLag, ok bool, now time.Time) string {
	switch {
	case !ok:
		return "lag unknown (measuring)"
	case now.Sub(l.At) > lagStale:
		return "lag unknown (stale)"
	case l.Why != "":
		return "lag unknown (" + l.Why + ")"
	}
	return fmt.Sprintf("lag %s / %s", seconds(l.Seconds), bytesize.IEC(l.Bytes))
}

// seconds writes a lag in seconds, rounded to the second from 10 s on.
func seconds(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.0f s", math.Ceil(s))
	}
	return fmt.Sprintf("%.0f s", s)
}

// slotWarning is the status's warning about the replication slot: empty
// unless it holds more WAL than limit (bytes; 0: no limit) or its
// wal_status says the server lost or will remove WAL it needs.
func slotWarning(l ArchiveLag, ok bool, limit int64) string {
	if !ok || l.Slot == "" {
		return ""
	}
	switch l.SlotStatus {
	case "lost":
		return fmt.Sprintf("warning: replication slot %s lost WAL it needed (wal_status lost): the archive has a gap, take a physical backup", l.Slot)
	case "unreserved":
		return fmt.Sprintf("warning: replication slot %s holds %s of WAL, past max_slot_wal_keep_size (wal_status unreserved): the server will remove WAL the archive lacks", l.Slot, bytesize.IEC(l.Retained))
	}
	if limit > 0 && l.Retained > limit {
		return fmt.Sprintf("warning: replication slot %s holds %s of WAL on the server (over %s)", l.Slot, bytesize.IEC(l.Retained), bytesize.IEC(limit))
	}
	return ""
}
