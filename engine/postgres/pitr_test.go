package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// dirArchive is a WAL archive in a folder the server's user can read, so
// that restore_command can be a plain cp.
type dirArchive struct{ dir string }

func (a dirArchive) file(name string, partial bool) string {
	if partial {
		name += ".partial"
	}
	return filepath.Join(a.dir, name)
}

func (a dirArchive) Put(_ context.Context, name string, partial bool, r io.Reader) error {
	tmp := a.file(name, partial) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, a.file(name, partial)); err != nil {
		return err
	}
	if !partial {
		_ = os.Remove(a.file(name, true))
	}
	return nil
}

func (a dirArchive) List(context.Context) ([]postgres.WALFile, error) {
	ents, err := os.ReadDir(a.dir)
	if err != nil {
		return nil, err
	}
	var out []postgres.WALFile
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		name, partial := strings.CutSuffix(e.Name(), ".partial")
		out = append(out, postgres.WALFile{Name: name, Partial: partial, ModTime: fi.ModTime()})
	}
	return out, nil
}

func (a dirArchive) Get(_ context.Context, name string, partial bool, w io.Writer) error {
	f, err := os.Open(a.file(name, partial))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// restoreCommand fetches from the folder: the segment, else its partial.
func (a dirArchive) restoreCommand() string {
	return fmt.Sprintf(`f=%s/%%f; if [ -f "$f" ]; then cp "$f" %%p; elif [ -f "$f.partial" ]; then cp "$f.partial" %%p; else exit 1; fi`, a.dir)
}

// pitrKit is a server with its WAL archived into a dirArchive.
type pitrKit struct {
	p     *testenv.Postgres
	eng   *postgres.Engine
	arch  dirArchive
	spool string // the archiver's
	slot  string // the archiver's replication slot
	stop  func()
	log   *syncWriter // the archiver's
}

func startArchived(t *testing.T) *pitrKit {
	t.Helper()
	return startArchivedOn(t, testenv.StartPostgres(t), "")
}

// startArchivedOn archives p's WAL; a name other than "" gives the kit
// its own archive, spool and slot, so that several kits, one after the
// other, share a server.
func startArchivedOn(t *testing.T, p *testenv.Postgres, name string) *pitrKit {
	t.Helper()
	suffix, slot := "", "dbbackup"
	if name != "" {
		suffix, slot = "-"+name, "dbbackup_"+name
	}
	k := &pitrKit{p: p, eng: newEngine(p, ""), arch: dirArchive{filepath.Join(p.Dir, "archive"+suffix)},
		spool: filepath.Join(p.Dir, "spool"+suffix), slot: slot}
	if err := os.Mkdir(k.arch.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	k.startArchiver(t)
	return k
}

// startArchiver starts ArchiveWAL with a partial upload a minute apart:
// in these short tests the last WAL reaches the archive only through the
// upload of everything received when the archiver stops.
func (k *pitrKit) startArchiver(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	if k.log == nil {
		k.log = &syncWriter{w: &bytes.Buffer{}}
	}
	go func() {
		done <- k.eng.ArchiveWAL(ctx, postgres.ArchiveSpec{Spool: k.spool, Slot: k.slot,
			PartialEvery: time.Minute, Poll: 200 * time.Millisecond, WarnRetained: 1, CheckEvery: 200 * time.Millisecond,
			Log: k.log}, k.arch)
	}()
	stopped := false
	k.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ArchiveWAL: %v", err)
			}
		case <-time.After(2 * time.Minute):
			t.Errorf("ArchiveWAL did not stop within 2 minutes")
		}
	}
	t.Cleanup(k.stop)
}

func (k *pitrKit) base(t *testing.T) (engine.Result, []byte) {
	t.Helper()
	var buf bytes.Buffer
	res, err := k.eng.Backup(context.Background(), engine.BackupSpec{Method: engine.MethodPhysical}, &buf)
	if err != nil {
		t.Fatalf("physical backup: %v", err)
	}
	return res, buf.Bytes()
}

// batches returns the batches table's rows, "A,B,...".
func batches(t *testing.T, p *testenv.Postgres) string {
	t.Helper()
	return strings.TrimSpace(p.SQL(t, "postgres", "SELECT string_agg(b, ',' ORDER BY b) FROM batches"))
}

func TestPhysicalBackupAndPointInTimeRecovery(t *testing.T) {
	physicalBackupAndPointInTimeRecovery(t, startArchived(t))
}

// physicalBackupAndPointInTimeRecovery writes batch A, takes a physical
// base, writes B and C a second apart, and restores the base to a time
// between B and C (exactly A,B) and to the end (A,B,C), each restored
// server writable. It runs on the default server and on each of the
// version matrix (matrix_test.go).
func physicalBackupAndPointInTimeRecovery(t *testing.T, k *pitrKit) {
	k.p.SQL(t, "postgres", "CREATE TABLE batches (b text); INSERT INTO batches VALUES ('A')")
	res, tarBytes := k.base(t)
	ph := res.Physical
	if res.Method != engine.MethodPhysical || res.Format != postgres.FormatBaseTar || ph == nil {
		t.Fatalf("result %+v", res)
	}
	if ph.Timeline != 1 || ph.WALSegmentSize != 16<<20 || ph.SystemID == "" || ph.EndTime.Before(ph.StartTime) {
		t.Errorf("physical %+v", *ph)
	}
	if want := strings.TrimSpace(k.p.SQL(t, "postgres", "SELECT system_identifier FROM pg_control_system()")); ph.SystemID != want {
		t.Errorf("system identifier %s, want %s", ph.SystemID, want)
	}
	time.Sleep(1100 * time.Millisecond)
	k.p.SQL(t, "postgres", "INSERT INTO batches VALUES ('B'); SELECT pg_switch_wal()")
	time.Sleep(1100 * time.Millisecond)
	between := time.Now()
	time.Sleep(1100 * time.Millisecond)
	k.p.SQL(t, "postgres", "INSERT INTO batches VALUES ('C')")
	k.p.WaitReceived(t)
	time.Sleep(500 * time.Millisecond)
	k.stop()
	if log := k.log.String(); !strings.Contains(log, `warning: replication slot "`+k.slot+`" holds`) {
		t.Errorf("no warning of the WAL the slot holds (over 1 byte) in the archiver's log:\n%s", log)
	}

	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		target time.Time
		want   string
	}{{"to a time", between, "A,B"}, {"to the end", time.Time{}, "A,B,C"}} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := postgres.PrepareRecovery(ctx, *ph, tc.target, k.arch)
			if err != nil {
				t.Fatalf("PrepareRecovery: %v", err)
			}
			if len(plan.Segments) == 0 {
				t.Fatalf("the plan needs no archived segment")
			}
			dir := k.p.NewDataDir(t, "restored-"+strings.ReplaceAll(tc.name, " ", "-"))
			err = k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: dir, RestoreCommand: k.arch.restoreCommand(),
				Target: tc.target, Timeline: plan.Timeline, ServerVersion: res.ServerVersion}, bytes.NewReader(tarBytes))
			if err != nil {
				t.Fatalf("RestoreBase: %v", err)
			}
			r := k.p.StartFromDataDir(t, dir)
			if got := batches(t, r); got != tc.want {
				t.Errorf("restored rows %q, want %q", got, tc.want)
			}
			r.SQL(t, "postgres", "INSERT INTO batches VALUES ('written after the restore')")
		})
	}
}

func TestRecoveryRefusesMissingAndForeignWAL(t *testing.T) {
	k := startArchived(t)
	k.p.SQL(t, "postgres", "CREATE TABLE batches (b text)")
	res, _ := k.base(t)
	for i := 0; i < 3; i++ {
		k.p.SQL(t, "postgres", fmt.Sprintf("INSERT INTO batches VALUES ('%d'); SELECT pg_switch_wal()", i))
	}
	k.stop()
	ctx := context.Background()
	plan, err := postgres.PrepareRecovery(ctx, *res.Physical, time.Time{}, k.arch)
	if err != nil {
		t.Fatalf("PrepareRecovery: %v", err)
	}
	if len(plan.Segments) < 3 {
		t.Fatalf("plan of %d segments, want at least 3", len(plan.Segments))
	}
	victim := plan.Segments[1].Name
	path := k.arch.file(victim, false)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	foreign := bytes.Clone(good)
	foreign[24] ^= 0xFF // the system identifier in the long page header
	if err := os.WriteFile(path, foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.PrepareRecovery(ctx, *res.Physical, time.Time{}, k.arch)
	if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("a foreign segment: got %v, want an error naming %s", err, victim)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.PrepareRecovery(ctx, *res.Physical, time.Time{}, k.arch)
	if !errors.Is(err, postgres.ErrMissingWAL) || !strings.Contains(err.Error(), victim) {
		t.Errorf("a missing segment: got %v, want ErrMissingWAL naming %s", err, victim)
	}
}

func TestRestoreBaseRefusesADamagedBaseAndLeavesTheDirectoryEmpty(t *testing.T) {
	k := startArchived(t)
	_, tarBytes := k.base(t)
	k.stop()
	ctx := context.Background()
	// A file of the base changed after pg_basebackup wrote it: the tar is
	// well formed, but pg_verifybackup finds the checksum wrong.
	damaged := bytes.Clone(tarBytes)
	i := bytes.Index(damaged, []byte("PG_VERSION"))
	if i < 0 {
		t.Fatal("no PG_VERSION in the base")
	}
	damaged[i+512] ^= 1 // the first byte of PG_VERSION's contents, one block after its header
	dir := k.p.NewDataDir(t, "damaged")
	err := k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: dir, RestoreCommand: "false"}, bytes.NewReader(damaged))
	if err == nil || !strings.Contains(err.Error(), "backup_manifest") {
		t.Errorf("a damaged base: got %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the data directory holds %d entries after a refused restore", len(ents))
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: dir, RestoreCommand: "false"}, bytes.NewReader(tarBytes))
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty directory: got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err != nil {
		t.Errorf("the refused restore touched the non-empty directory: %v", err)
	}
	err = k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: filepath.Join(dir, "foreign"), RestoreCommand: "false", SystemID: "12345"}, bytes.NewReader(tarBytes))
	if err == nil || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("a base of another cluster than its manifest says: got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "foreign")); !os.IsNotExist(err) {
		t.Errorf("a refused restore left the data directory it made: %v", err)
	}
	err = k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: "relative/dir", RestoreCommand: "false"}, bytes.NewReader(tarBytes))
	if err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("a relative directory: got %v", err)
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.(*bytes.Buffer).String()
}
