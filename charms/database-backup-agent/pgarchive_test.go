package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store/s3"
)

// TestWALArchiverKilledPostgres: the agent with archive-logs on a
// PostgreSQL server, a physical backup, then rows written without pause
// while the runner's WAL archiver is SIGKILLed mid-stream and started
// again. The status shows the measured lag; every WAL segment from the
// base to the end is in the bucket with no gap (postgres.PrepareRecovery
// reads and checks each), and dbbackup restore --pgdata of the base and
// the archive recovers a server holding every committed row. With
// archive-logs off, the runner drops the replication slot and the spool.
func TestWALArchiverKilledPostgres(t *testing.T) {
	w, pg := postgresWorld(t, 1)
	pg.SQL(t, "shop", "CREATE TABLE n (i int)")
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "true"}); err != nil {
		t.Fatal(err)
	}
	w.request(w.backup("base").WithMethod(dbbackup.MethodPhysical))
	base := w.wait("base")["base"]
	if base.Status != dbbackup.Success {
		t.Fatalf("base = %+v", base)
	}
	j := w.journal("agent/0")
	first := w.archiverUp(0)

	stopWrites := make(chan struct{})
	var committed int
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i < 100000; i++ {
			select {
			case <-stopWrites:
				return
			default:
			}
			if _, err := pg.Exec("shop", fmt.Sprintf("INSERT INTO n SELECT %d FROM generate_series(1, 200); SELECT pg_switch_wal() WHERE %d %% 40 = 0", i, i)); err != nil {
				t.Errorf("insert %d: %v", i, err)
				return
			}
			committed = i
		}
	})
	time.Sleep(3 * time.Second)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	w.archiverUp(first)
	time.Sleep(3 * time.Second)
	close(stopWrites)
	wg.Wait()
	if committed < 10 {
		t.Fatalf("only %d inserts committed", committed)
	}
	stopped := time.Now()
	want := strings.TrimSpace(pg.SQL(t, "shop", "SELECT count(*) || '/' || count(DISTINCT i) || '/' || max(i) FROM n"))
	if want != fmt.Sprintf("%d/%d/%d", committed*200, committed, committed) {
		t.Fatalf("the source holds %s rows/inserts/max, want %d inserts", want, committed)
	}
	end := strings.TrimSpace(pg.SQL(t, "postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())"))

	// The archiver catches up (a partial upload at most 10 s apart) and
	// says so: its measurement, and the status a hook shows.
	w.waitFor("the archiver to measure it caught up", func() bool {
		l := backupagent.ReadArchiverState(j).Lag
		return l != nil && l.At.After(stopped) && l.Why == "" && l.Bytes < 8192 && l.Seconds == 0 && l.Slot == "dbbackup_agent" && l.Retained >= 0
	})
	w.m.UpdateStatus()
	w.settle()
	if _, msg := w.m.UnitStatus("agent/0"); !regexp.MustCompile(`archiving logs, lag [0-9]+ s / [0-9.]+ (B|KiB), last upload `).MatchString(msg) {
		t.Errorf("status %q, want the archiver's lag", msg)
	}
	if st := backupagent.ReadArchiverState(j); st.Restarts < 1 || !strings.Contains(st.LastError, "killed") {
		t.Errorf("archiver state after the kill = %+v, want a restart and why it ended", st)
	}

	// Every segment from the base's start to the server's end, no gap.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := s3.NewRoot(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := artefact.ReadManifest(ctx, root, base.ArtefactPath)
	if err != nil || m.Engine.Physical == nil {
		t.Fatalf("manifest of the base: %+v, %v", m.Engine, err)
	}
	plan, err := postgres.PrepareRecovery(ctx, *m.Engine.Physical, time.Time{}, pitr.Archive{Store: root, Scope: "agent"}.WAL())
	if err != nil {
		t.Fatalf("the archive from the base on: %v", err)
	}
	t.Logf("%d inserts committed; the plan from the base replays %d segments up to %s", committed, len(plan.Segments), end)
	if n := len(plan.Segments); n == 0 || plan.Segments[n-1].Name < end {
		t.Errorf("the archive's last segment on the way is %v, want the server's current %s or later", plan.Segments[max(0, n-1):], end)
	}

	// The restore of the base and the archive has every committed row.
	bin, cfg := restoreTools(t, w, pg)
	dir := pg.NewDataDir(t, "after-kill")
	out, err := exec.CommandContext(ctx, bin, "restore", "--engine", "postgresql", "--storage-config", cfg,
		"--artefact-path", base.ArtefactPath, "--pgdata", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("dbbackup restore --pgdata: %v\n%s", err, out)
	}
	r := pg.StartFromDataDir(t, dir)
	if got := strings.TrimSpace(r.SQL(t, "shop", "SELECT count(*) || '/' || count(DISTINCT i) || '/' || max(i) FROM n")); got != want {
		t.Errorf("restored %s rows/inserts/max, want %s", got, want)
	}
	w.checkNoSecrets()

	// Off: the archiver stops, the slot that would keep WAL on the server
	// for ever is dropped, and so is the spool.
	if err := w.m.Config(w.ctx, "agent", map[string]string{"archive-logs": "false"}); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the slot to be dropped", func() bool {
		return strings.TrimSpace(pg.SQL(t, "postgres", "SELECT count(*) FROM pg_replication_slots")) == "0"
	})
	if _, err := os.Stat(filepath.Join(j.Dir, "wal-spool")); !os.IsNotExist(err) {
		t.Errorf("the WAL spool is left after the slot was dropped: %v", err)
	}
	w.m.UpdateStatus()
	w.settle()
	if st, msg := w.m.UnitStatus("agent/0"); st != "active" || msg != "idle" {
		t.Errorf("status after archive-logs off: %s %q, want active idle", st, msg)
	}
}

// restoreTools builds the dbbackup command and writes the storage
// configuration where the server's user can read them: the restored
// server runs dbbackup wal-fetch as that user.
func restoreTools(t *testing.T, w *world, pg *testenv.Postgres) (bin, cfg string) {
	t.Helper()
	built, err := jujusim.BuildCharm("github.com/dbbackup/dbbackup/cmd/dbbackup")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(pg.Dir, "client")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	bin, cfg = filepath.Join(dir, "dbbackup"), filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	s := w.storage()
	text := fmt.Sprintf("bucket: %s\naccess-key: %s\nsecret-key: %s\nendpoint: %s\ns3-uri-style: path\n", s.Bucket, s.AccessKey, s.SecretKey, s.Endpoint)
	if s.Region != "" {
		text += "region: " + s.Region + "\n"
	}
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, cfg
}
