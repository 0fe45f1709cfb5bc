package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestRestoreToTimeMariaDB: the agent with archive-logs on a MariaDB that
// writes a binary log. A backup of A, then B, a time, C written while
// the archiver is SIGKILLed (the runner starts it again); restore jobs
// written into the requirer's databag: to a time the archive does not
// reach is an error that leaves the database as it is, to after C (and
// before D) brings back A+B+C (nothing lost by the kill), to the time
// between B and C gives exactly A+B.
func TestRestoreToTimeMariaDB(t *testing.T) {
	my := testenv.StartMariaDBWith(t, testenv.MariaDBOptions{Binlog: true})
	my.SQL(t, "", "CREATE DATABASE shop")
	my.SQL(t, "shop", "CREATE TABLE t (id int primary key, batch char(1)); INSERT INTO t VALUES (1, 'A'), (2, 'A')")
	w := newWorld(t, dbServer{engine: "mysql", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: "shop"}, 1)
	caps, err := dbbackup.ParseCapabilities(w.m.RelationData(w.rel, "agent")[dbbackup.CapabilitiesKey])
	if err != nil || !caps.Has(dbbackup.PointInTime) || caps.Has(dbbackup.Physical) {
		t.Errorf("MariaDB agent capabilities = %v, %v; want point-in-time and not physical", caps, err)
	}
	rows := func() string {
		t.Helper()
		return strings.Join(strings.Fields(my.SQL(t, "shop", "SELECT id, batch FROM t ORDER BY id")), " ")
	}
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "true"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if _, msg := w.m.UnitStatus("agent/0"); !strings.Contains(msg, "archive-logs waits for a first backup") {
		t.Errorf("status before any backup = %q, want it to say the archiver waits for a backup", msg)
	}
	w.request(w.backup("base"))
	base := w.wait("base")["base"]
	if base.Status != dbbackup.Success {
		t.Fatalf("base = %+v", base)
	}
	j := w.journal("agent/0")
	first := w.archiverUp(0)
	w.waitFor("the status to show the archiver", func() bool {
		_, msg := w.m.UnitStatus("agent/0")
		return strings.Contains(msg, "archiving logs")
	})

	my.SQL(t, "shop", "INSERT INTO t VALUES (3, 'B'), (4, 'B')")
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond)
	spoolArg := "--result-file=" + filepath.Join(j.Dir, "binlog-spool") + "/"
	fetcher := processesWithArg(t, spoolArg)
	if len(fetcher) != 1 {
		t.Fatalf("mariadb-binlog processes of the archiver: %v, want one", fetcher)
	}
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	my.SQL(t, "shop", "INSERT INTO t VALUES (5, 'C')")
	time.Sleep(1100 * time.Millisecond)
	afterC := time.Now().UTC()
	w.archiverUp(first)
	// The mariadb-binlog of the killed archiver (its own process group)
	// is gone: one is left, the new archiver's; and so is the folder the
	// killed one received into (each kill would leave one behind).
	w.waitFor("the new archiver's mariadb-binlog alone", func() bool {
		now := processesWithArg(t, spoolArg)
		return len(now) == 1 && now[0] != fetcher[0]
	})
	if ents, err := os.ReadDir(filepath.Join(j.Dir, "binlog-spool")); err != nil || len(ents) != 1 {
		t.Errorf("binlog-spool after the restart holds %d entries (%v), want the new archiver's folder alone", len(ents), err)
	}
	// D, written after the time, makes the archiver store the file
	// again (a quiet server's is stored again each minute only): the
	// archive then reaches past afterC.
	time.Sleep(time.Until(afterC.Add(1100 * time.Millisecond)))
	my.SQL(t, "shop", "INSERT INTO t VALUES (6, 'D')")
	w.waitArchived(afterC.Add(time.Second))
	// The status shows the lag the binary log archiver measured.
	w.waitFor("the status to show the archive's lag", func() bool {
		w.m.UpdateStatus()
		_, msg := w.m.UnitStatus("agent/0")
		return regexp.MustCompile(`archiving logs, lag [0-9]+ s / [0-9.]+ (B|KiB|MiB), last upload `).MatchString(msg)
	})

	w.request(w.restore("too-late", base.ArtefactPath).WithRestoreToTime(time.Now().Add(time.Hour)))
	before := rows()
	if r := w.wait("too-late")["too-late"]; r.Status != dbbackup.Error || !strings.Contains(r.Message, "cannot restore to") {
		t.Errorf("restore to a time the archive does not reach = %+v, want error", r)
	}
	if got := rows(); got != before {
		t.Fatalf("a refused restore changed the database: %q, was %q", got, before)
	}

	my.SQL(t, "shop", "DELETE FROM t")
	w.request(w.restore("to-after-c", base.ArtefactPath).WithRestoreToTime(afterC))
	if r := w.wait("to-after-c")["to-after-c"]; r.Status != dbbackup.Success {
		t.Fatalf("restore to after C = %+v", r)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B 5 C"; got != want {
		t.Errorf("after a restore to after C (written while the archiver was killed): %q, want %q", got, want)
	}
	w.request(w.restore("to-b", base.ArtefactPath).WithRestoreToTime(target))
	if r := w.wait("to-b")["to-b"]; r.Status != dbbackup.Success {
		t.Fatalf("restore to between B and C = %+v", r)
	}
	if got, want := rows(), "1 A 2 A 3 B 4 B"; got != want {
		t.Errorf("after a restore to between B and C: %q, want %q", got, want)
	}
	st := backupagent.ReadArchiverState(j)
	if st.Restarts < 1 || !strings.Contains(st.LastError, "killed") {
		t.Errorf("archiver state after the kill = %+v, want a restart and why it ended", st)
	}
	w.checkNoSecrets()

	// Off: the runner stops the archiver.
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "false"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the archiver to stop", func() bool {
		s := backupagent.ReadArchiverState(j)
		return !s.Running && syscall.Kill(st.PID, 0) != nil
	})
}

// archiverUp waits for the runner to run an archiver other than process
// old, and returns its pid.
func (w *world) archiverUp(old int) int {
	w.t.Helper()
	var pid int
	w.waitFor("the archiver to run", func() bool {
		s := backupagent.ReadArchiverState(w.journal("agent/0"))
		pid = s.PID
		return s.Running && s.PID != old && s.PID != 0
	})
	return pid
}

// waitArchived waits until the archive holds a binary log stored after
// at.
func (w *world) waitArchived(at time.Time) {
	w.t.Helper()
	w.waitArchivedIn(artefact.LogStreamBinlog, at)
}

// waitArchivedIn waits until the archive's stream holds a file stored
// after at.
func (w *world) waitArchivedIn(stream string, at time.Time) {
	w.t.Helper()
	st, err := s3.New(w.storage(), s3.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.waitFor("the archive to reach "+at.Format(time.RFC3339), func() bool {
		logs, err := artefact.ListLogs(w.ctx, st, "agent", stream)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, l := range logs {
			if l.ModTime.After(at) {
				return true
			}
		}
		return false
	})
}

// TestPhysicalBackupPostgres: a backup job with method physical makes a
// PostgreSQL base backup whose manifest says physical, and with
// archive-logs on the WAL archiver then fills the scope's archive; a
// restore to a time and an unknown method are refused naming their field,
// and the agent advertises physical but not point-in-time.
func TestPhysicalBackupPostgres(t *testing.T) {
	w, _ := postgresWorld(t, 1)
	caps, err := dbbackup.ParseCapabilities(w.m.RelationData(w.rel, "agent")[dbbackup.CapabilitiesKey])
	if err != nil || !caps.Has(dbbackup.Physical) || caps.Has(dbbackup.PointInTime) {
		t.Errorf("PostgreSQL agent capabilities = %v, %v; want physical and not point-in-time", caps, err)
	}
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "true"}); err != nil {
		t.Fatal(err)
	}
	bogus := w.backup("bogus-method")
	bogus.Extra = map[string]json.RawMessage{dbbackup.MethodField: json.RawMessage(`"snapshot"`)}
	w.request(w.backup("phys").WithMethod(dbbackup.MethodPhysical), bogus)
	got := w.wait("phys", "bogus-method")
	phys := got["phys"]
	if phys.Status != dbbackup.Success || phys.ArtefactPath != "agent/phys/" {
		t.Fatalf("phys = %+v", phys)
	}
	if b := got["bogus-method"]; b.Status != dbbackup.Error || !strings.Contains(b.Message, dbbackup.MethodField) {
		t.Errorf("bogus-method = %+v, want an error naming %s", b, dbbackup.MethodField)
	}
	root, err := s3.NewRoot(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := artefact.ReadManifest(ctx, root, "agent/phys/")
	if err != nil || m.Engine.Method != engine.MethodPhysical || m.Engine.Physical == nil {
		t.Fatalf("manifest of phys: method %q, physical %+v, %v; want physical with WAL positions", m.Engine.Method, m.Engine.Physical, err)
	}
	// With archive-logs on, the leader streams the WAL into the scope's
	// archive from the backup's storage on, and says so.
	st, err := s3.New(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("WAL in the archive", func() bool {
		logs, err := artefact.ListLogs(ctx, st, "agent", artefact.LogStreamWAL)
		return err == nil && len(logs) > 0
	})
	w.waitFor("the status to show the WAL archiver", func() bool {
		_, msg := w.m.UnitStatus("agent/0")
		return strings.Contains(msg, "archiving logs")
	})
	w.request(w.restore("pg-to-time", phys.ArtefactPath).WithRestoreToTime(time.Now()))
	if r := w.wait("pg-to-time")["pg-to-time"]; r.Status != dbbackup.Error || !strings.Contains(r.Message, dbbackup.RestoreToTimeField) {
		t.Errorf("pg-to-time = %+v, want an error naming %s", r, dbbackup.RestoreToTimeField)
	}
	w.checkNoSecrets()
}

// TestArchivingUnitIsTheLeader: with archive-logs on, exactly one unit
// archives, the leader; when leadership moves, so does the archiving, and
// the other units say who archives.
func TestArchivingUnitIsTheLeader(t *testing.T) {
	w, _ := postgresWorld(t, 2)
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "true"}); err != nil {
		t.Fatal(err)
	}
	w.settle()
	check := func(leader string) {
		t.Helper()
		w.m.UpdateStatus()
		w.settle()
		for _, u := range w.m.Units("agent") {
			_, msg := w.m.UnitStatus(u)
			want := "the leader archives the logs"
			if u == leader {
				want = "archive-logs waits for a first backup"
			}
			if !strings.Contains(msg, want) {
				t.Errorf("leader %s: %s status = %q, want %q", leader, u, msg, want)
			}
		}
	}
	check(w.m.Leader("agent"))
	other := w.m.Units("agent")[0]
	if other == w.m.Leader("agent") {
		other = w.m.Units("agent")[1]
	}
	if err := w.m.SetLeader(w.ctx, other); err != nil {
		t.Fatal(err)
	}
	w.settle()
	check(other)
}

// processesWithArg returns the processes one of whose arguments starts
// with prefix.
func processesWithArg(t *testing.T, prefix string) []string {
	t.Helper()
	paths, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		for _, arg := range strings.Split(string(data), "\x00") {
			if strings.HasPrefix(arg, prefix) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
