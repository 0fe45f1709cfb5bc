package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// pitrKit is a PostgreSQL server, a bucket and the dbbackup binary, its
// storage configuration and a key, all where the server's user can read
// them (the restored server runs dbbackup wal-fetch as that user).
type pitrKit struct {
	pg      *testenv.Postgres
	s       s3Fixture
	bin     string
	cfg     string // readable by the server's user
	key     string
	secrets []string
}

func newPITRKit(t *testing.T) *pitrKit {
	t.Helper()
	pg := testenv.StartPostgres(t)
	s := newS3Fixture(t)
	built := buildCommand(t, ".", "dbbackup")
	client := filepath.Join(pg.Dir, "client")
	if err := os.Mkdir(client, 0o755); err != nil {
		t.Fatal(err)
	}
	k := &pitrKit{pg: pg, s: s, bin: filepath.Join(client, "dbbackup"), cfg: filepath.Join(client, "s3.yaml"),
		key: filepath.Join(client, "key"), secrets: append(s.secrets, pg.Password)}
	for src, dst := range map[string]string{built: k.bin, s.cfgFile: k.cfg} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	if err := os.WriteFile(k.key, []byte(hex.EncodeToString(raw)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// run runs dbbackup to its end (bounded) and returns its exit code and
// outputs; no output may hold a secret.
func (k *pitrKit) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+k.pg.Password)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("dbbackup %s ran over 5 minutes", args[0])
	}
	mustNotLeak(t, k.secrets, out.String(), errb.String())
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// archiver is a running dbbackup archive-wal.
type archiver struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

// startArchiver starts archive-wal against server pg and waits until it
// streams.
func (k *pitrKit) startArchiver(t *testing.T, pg *testenv.Postgres, scope, spool string, extra ...string) *archiver {
	t.Helper()
	args := append([]string{"archive-wal", "--database-url", pg.URL(""), "--storage-config", k.cfg, "--scope", scope,
		"--spool-dir", spool, "--partial-interval", "1s"}, extra...)
	a := &archiver{cmd: exec.Command(k.bin, args...), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	a.cmd.Env = append(os.Environ(), "PGPASSWORD="+pg.Password)
	a.cmd.Stderr = a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
	})
	pg.WaitReceived(t)
	return a
}

// stop sends sig and waits (2 minutes at most) for the exit code.
func (a *archiver) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	_ = a.cmd.Process.Signal(sig)
	select {
	case <-a.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("archive-wal did not stop within 2 minutes of %v:\n%s", sig, a.stderr.String())
	}
	return a.cmd.ProcessState.ExitCode()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func rows(t *testing.T, p *testenv.Postgres) string {
	t.Helper()
	return strings.TrimSpace(p.SQL(t, "postgres", "SELECT string_agg(b, ',' ORDER BY b) FROM batches"))
}

// pause leaves a second between two writes, so that a moment between
// them is a clear target.
func pause() time.Time {
	time.Sleep(1100 * time.Millisecond)
	t := time.Now()
	time.Sleep(1100 * time.Millisecond)
	return t
}

// TestPointInTimeRestoreOnRealParts writes batches A, B, C with a physical
// base before B, and restores through the command line to a time between
// B and C (exactly A+B), to the end (A+B+C), then, on the server of the
// first restore (a new timeline, archived by its own archiver), writes D
// and E and restores to a time between them (A+B+D).
func TestPointInTimeRestoreOnRealParts(t *testing.T) {
	k := newPITRKit(t)
	pg := k.pg
	arch := k.startArchiver(t, pg, "app", filepath.Join(pg.Dir, "spool-app"))
	pg.SQL(t, "postgres", "CREATE TABLE batches (b text); INSERT INTO batches VALUES ('A')")
	code, out, errs := k.run(t, "backup", "--engine", "postgresql", "--method", "physical", "--database-url", pg.URL(""),
		"--storage-config", k.cfg, "--scope", "app", "--json")
	if code != 0 {
		t.Fatalf("physical backup: exit %d\n%s", code, errs)
	}
	var rep struct {
		ArtefactPath string `json:"artefact-path"`
		Method       string `json:"method"`
		Physical     struct {
			SystemID string    `json:"system-identifier"`
			StartLSN string    `json:"start-lsn"`
			EndTime  time.Time `json:"end-time"`
		} `json:"physical"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("backup --json: %v\n%s", err, out)
	}
	if rep.Method != "physical" || rep.Physical.SystemID == "" || rep.Physical.StartLSN == "" || rep.Physical.EndTime.IsZero() {
		t.Errorf("backup --json: %s", out)
	}
	base := rep.ArtefactPath
	pause()
	pg.SQL(t, "postgres", "INSERT INTO batches VALUES ('B')")
	betweenBC := pause()
	pg.SQL(t, "postgres", "INSERT INTO batches VALUES ('C')")
	pg.WaitReceived(t)
	if code := arch.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("archive-wal after SIGTERM: exit %d\n%s", code, arch.stderr.String())
	}

	restore := func(t *testing.T, name string, args ...string) *testenv.Postgres {
		t.Helper()
		dir := pg.NewDataDir(t, name)
		code, out, errs := k.run(t, append([]string{"restore", "--engine", "postgresql", "--storage-config", k.cfg, "--pgdata", dir}, args...)...)
		if code != 0 {
			t.Fatalf("restore %v: exit %d\n%s\n%s", args, code, out, errs)
		}
		return pg.StartFromDataDir(t, dir)
	}
	// To a time between B and C; the server runs on for the second restore.
	first := restore(t, "to-time", "--scope", "app", "--restore-to-time", betweenBC.UTC().Format(time.RFC3339Nano))
	if got := rows(t, first); got != "A,B" {
		t.Errorf("restored to a time between B and C: rows %q, want A,B", got)
	}
	t.Run("to the end", func(t *testing.T) {
		r := restore(t, "to-end", "--artefact-path", base)
		if got := rows(t, r); got != "A,B,C" {
			t.Errorf("rows %q, want A,B,C", got)
		}
		r.SQL(t, "postgres", "INSERT INTO batches VALUES ('read-write')")
	})
	t.Run("list shows the window", func(t *testing.T) {
		code, out, errs := k.run(t, "list", "--storage-config", k.cfg, "--json")
		if code != 0 {
			t.Fatalf("list: exit %d\n%s", code, errs)
		}
		var rows []struct {
			ArtefactPath string `json:"artefact-path"`
			Window       *struct {
				From     time.Time `json:"from"`
				To       time.Time `json:"until"`
				Timeline uint32    `json:"timeline"`
			} `json:"recoverable"`
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Window == nil {
			t.Fatalf("list --json: %s", out)
		}
		w := rows[0].Window
		if !w.From.Equal(rep.Physical.EndTime) || !w.To.After(betweenBC) || w.Timeline != 1 {
			t.Errorf("window %+v, want from %s to after %s on timeline 1", *w, rep.Physical.EndTime, betweenBC)
		}
		code, out, _ = k.run(t, "list", "--storage-config", k.cfg)
		if code != 0 || !strings.Contains(out, "Recoverable windows") || !strings.Contains(out, base) {
			t.Errorf("list: exit %d\n%s", code, out)
		}
	})
	t.Run("second restore after the first", func(t *testing.T) {
		arch := k.startArchiver(t, first, "app", filepath.Join(pg.Dir, "spool-first"))
		first.SQL(t, "postgres", "INSERT INTO batches VALUES ('D')")
		betweenDE := pause()
		first.SQL(t, "postgres", "INSERT INTO batches VALUES ('E')")
		first.WaitReceived(t)
		if code := arch.stop(t, syscall.SIGINT); code != 0 {
			t.Fatalf("archive-wal after SIGINT: exit %d\n%s", code, arch.stderr.String())
		}
		r := restore(t, "second", "--scope", "app", "--restore-to-time", betweenDE.UTC().Format(time.RFC3339Nano))
		if got := rows(t, r); got != "A,B,D" {
			t.Errorf("rows %q, want A,B,D", got)
		}
	})
}

// TestArchiverKilledAndRestartedLosesNothing writes rows without pause
// while archive-wal (encrypting) is killed with SIGKILL and started again:
// the restore to the end has every committed row. It then damages, removes
// and swaps archived files: each is refused, naming the file, with the
// data directory left empty.
func TestArchiverKilledAndRestartedLosesNothing(t *testing.T) {
	k := newPITRKit(t)
	pg := k.pg
	spool := filepath.Join(pg.Dir, "spool-kill")
	enc := []string{"--encryption-key-file", k.key}
	arch := k.startArchiver(t, pg, "kill", spool, enc...)
	pg.SQL(t, "postgres", "CREATE TABLE batches (b text); CREATE TABLE n (i int)")
	code, out, errs := k.run(t, append([]string{"backup", "--engine", "postgresql", "--method", "physical", "--database-url", pg.URL(""),
		"--storage-config", k.cfg, "--scope", "kill"}, enc...)...)
	if code != 0 {
		t.Fatalf("physical backup: exit %d\n%s", code, errs)
	}
	base := lastLine(out)

	stopWrites := make(chan struct{})
	var committed int
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stopWrites:
				return
			default:
			}
			if _, err := pg.Exec("postgres", fmt.Sprintf("INSERT INTO n SELECT %d FROM generate_series(1, 200); SELECT pg_switch_wal() WHERE %d %% 40 = 0", i, i)); err != nil {
				t.Errorf("insert %d: %v", i, err)
				return
			}
			committed = i
		}
	})
	time.Sleep(3 * time.Second)
	receiver := waitChild(t, arch.cmd.Process.Pid, "pg_receivewal")
	if code := arch.stop(t, syscall.SIGKILL); code != -1 {
		t.Errorf("archive-wal after SIGKILL: exit %d, want killed", code)
	}
	mustDie(t, "archive-wal killed with SIGKILL", receiver)
	time.Sleep(2 * time.Second)
	arch = k.startArchiver(t, pg, "kill", spool, enc...)
	time.Sleep(3 * time.Second)
	close(stopWrites)
	wg.Wait()
	pg.WaitReceived(t)
	if code := arch.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("archive-wal after SIGTERM: exit %d\n%s", code, arch.stderr.String())
	}
	if committed < 10 {
		t.Fatalf("only %d inserts committed", committed)
	}
	want := strings.TrimSpace(pg.SQL(t, "postgres", "SELECT count(*) || '/' || count(DISTINCT i) || '/' || max(i) FROM n"))
	if want != fmt.Sprintf("%d/%d/%d", committed*200, committed, committed) {
		t.Fatalf("the source holds %s rows/inserts/max, want %d inserts", want, committed)
	}

	dir := pg.NewDataDir(t, "after-kill")
	code, out, errs = k.run(t, append([]string{"restore", "--engine", "postgresql", "--storage-config", k.cfg,
		"--artefact-path", base, "--pgdata", dir, "--json"}, enc...)...)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errs)
	}
	r := pg.StartFromDataDir(t, dir)
	if got := strings.TrimSpace(r.SQL(t, "postgres", "SELECT count(*) || '/' || count(DISTINCT i) || '/' || max(i) FROM n")); got != want {
		t.Errorf("restored %s rows/inserts/max, want %s", got, want)
	}

	damageMatrix(t, k, base, enc)
}

// damageMatrix damages the archive of base's scope and the base itself,
// one way at a time: each restore is refused (exit 1) naming what is
// wrong, and leaves its data directory empty.
func damageMatrix(t *testing.T, k *pitrKit, base string, enc []string) {
	ctx := context.Background()
	scope := strings.Split(strings.TrimSuffix(base, "/"), "/")[1]
	walDir := "prod/" + scope + "/_logs/wal/"
	var segs []string
	for obj, err := range k.s.root.List(ctx, walDir, store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if name := strings.TrimPrefix(obj.Key, walDir); len(name) == 24 {
			segs = append(segs, name)
		}
	}
	if len(segs) < 4 {
		t.Fatalf("only %d segments archived: %v", len(segs), segs)
	}
	victim := segs[len(segs)-2]
	key := walDir + victim
	get := func() []byte {
		rc, err := k.s.root.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := get()
	putBack := func() {
		if _, err := k.s.root.Put(ctx, key, bytes.NewReader(good), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	refused := func(t *testing.T, name, want string) {
		t.Helper()
		dir := k.pg.NewDataDir(t, "refused-"+name)
		code, out, errs := k.run(t, append([]string{"restore", "--engine", "postgresql", "--storage-config", k.cfg,
			"--artefact-path", base, "--pgdata", dir}, enc...)...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("exit %d, want 1 with %q in:\n%s%s", code, want, out, errs)
		}
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
			t.Errorf("the data directory holds %d entries (%v) after a refused restore", len(ents), err)
		}
	}
	walFetch := func(t *testing.T, name string) (int, string) {
		t.Helper()
		dest := filepath.Join(t.TempDir(), "RECOVERYXLOG")
		code, _, errs := k.run(t, append([]string{"wal-fetch", "--storage-config", k.cfg, "--scope", scope}, append(enc, name, dest)...)...)
		if _, err := os.Stat(dest); (code == 0) != (err == nil) {
			t.Errorf("wal-fetch %s: exit %d, and the destination exists: %v", name, code, err == nil)
		}
		return code, errs
	}
	t.Run("wal-fetch", func(t *testing.T) {
		if code, errs := walFetch(t, victim); code != 0 {
			t.Errorf("wal-fetch of an archived segment: exit %d\n%s", code, errs)
		}
		if code, errs := walFetch(t, "0000000900000000000000FF"); code != 1 || !strings.Contains(errs, "not in the archive") {
			t.Errorf("wal-fetch of a segment not archived: exit %d, want 1\n%s", code, errs)
		}
		if code, errs := walFetch(t, "00000009.history"); code != 1 {
			t.Errorf("wal-fetch of a history file not archived: exit %d, want 1\n%s", code, errs)
		}
	})
	t.Run("damaged segment", func(t *testing.T) {
		k.s.tamper(t, key, func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		defer putBack()
		refused(t, "damaged", victim)
		if code, errs := walFetch(t, victim); code != exitFetchFailed || !strings.Contains(errs, victim) {
			t.Errorf("wal-fetch of a damaged segment: exit %d, want %d naming it\n%s", code, exitFetchFailed, errs)
		}
	})
	t.Run("no key", func(t *testing.T) {
		saved := enc
		enc = nil
		defer func() { enc = saved }()
		refused(t, "nokey", "key")
	})
	t.Run("missing segment", func(t *testing.T) {
		if err := k.s.root.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		defer putBack()
		refused(t, "missing", victim)
	})
	t.Run("segment under another name", func(t *testing.T) {
		other := walDir + segs[len(segs)-3]
		k.s.tamper(t, key, func([]byte) []byte {
			rc, err := k.s.root.Get(ctx, other)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return b
		})
		defer putBack()
		refused(t, "swapped", victim)
	})
	t.Run("damaged base", func(t *testing.T) {
		data := k.s.dataKey(t, base)
		k.s.tamper(t, data, func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		refused(t, "base", "")
	})
}
