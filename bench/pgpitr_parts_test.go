package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// walLag samples a PostgreSQL source's WAL position: the segment
// pg_current_wal_lsn() is in and the offset in it. pg_receivewal's
// partial segments are padded with zeros.
func walLag(src *testenv.Postgres) lagSource {
	return lagSource{stream: artefact.LogStreamWAL, padded: true, position: func() (string, int64, error) {
		out, err := src.Exec("postgres", "SELECT file_name || ' ' || file_offset FROM pg_walfile_name_offset(pg_current_wal_lsn())")
		return parseWALPosition(out, err)
	}}
}

// parseWALPosition reads "<segment name> <offset>".
func parseWALPosition(out string, err error) (string, int64, error) {
	f := strings.Fields(out)
	if err != nil || len(f) != 2 || len(f[0]) != 24 {
		return "", 0, fmt.Errorf("cannot read the WAL position %q: %v", out, err)
	}
	pos, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || pos < 0 {
		return "", 0, fmt.Errorf("cannot read the WAL position %q: offset %v", out, err)
	}
	return f[0], pos, nil
}

// serverReadable copies the dbbackup binary and the storage
// configuration into a folder of p's where the server's user reads them:
// the restored server runs the binary's wal-fetch, named by the restore,
// as that user. The configuration, which holds the bucket's keys, is the
// server user's alone (0600).
func serverReadable(b *testing.B, p *testenv.Postgres, cfgFile string) (bin, cfg string) {
	b.Helper()
	dir := filepath.Join(p.Dir, "client")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	bin, cfg = filepath.Join(dir, "dbbackup"), filepath.Join(dir, "s3.json")
	for _, f := range []struct {
		from, to string
		mode     os.FileMode
	}{{dbbackupBinary(b), bin, 0o755}, {cfgFile, cfg, 0o600}} {
		data, err := os.ReadFile(f.from)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(f.to, data, f.mode); err != nil {
			b.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", pgUser(p), cfg).CombinedOutput(); err != nil {
			b.Fatalf("cannot give %s to %s: %v %s", cfg, pgUser(p), err, out)
		}
	}
	return bin, cfg
}

// runServerTool runs one of p's server programs as the server's user,
// bounded in time, and fails b when it fails.
func runServerTool(b *testing.B, p *testenv.Postgres, within time.Duration, name string, args ...string) {
	b.Helper()
	c := asServerUser(p, filepath.Join(p.ServerBinDir, name), args...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		b.Fatalf("cannot run %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
		}
	case <-time.After(within):
		_ = c.Process.Kill()
		<-done
		b.Fatalf("%s %s ran over %s:\n%s", name, strings.Join(args, " "), within, out.String())
	}
}

// archiveWithPgBackRest turns on p's WAL archiving through pgBackRest's
// archive-push (ALTER SYSTEM: this server only) and restarts it.
// Restored copies carry the setting in postgresql.auto.conf: startRestored
// turns it off on their command line. Call it after the S3 server started.
func archiveWithPgBackRest(b *testing.B, p *testenv.Postgres, conf string) {
	b.Helper()
	cmd := fmt.Sprintf("%s --config=%s --stanza=bench archive-push %%p", pgBackRestPath(), conf)
	p.SQL(b, "postgres", fmt.Sprintf("ALTER SYSTEM SET archive_mode = on; ALTER SYSTEM SET archive_command = '%s'",
		strings.ReplaceAll(cmd, "'", "''")))
	// At the test's end, before the S3 server stops (cleanups run last
	// first), nothing is archived any more: a shutdown would otherwise
	// wait on archive-push retrying against a server that is gone.
	b.Cleanup(func() {
		if _, err := p.Exec("postgres", "ALTER SYSTEM SET archive_command = 'true';\nSELECT pg_reload_conf();"); err != nil {
			b.Logf("cannot turn archiving off: %v", err)
		}
	})
	// restart keeps the command line of postmaster.opts, not the log file.
	runServerTool(b, p, 2*time.Minute, "pg_ctl", "-D", p.DataDir(), "-l", filepath.Join(p.Dir, "server.log"), "-m", "fast", "-w", "-t", "60", "restart")
	if got := strings.TrimSpace(p.SQL(b, "postgres", "SHOW archive_mode")); got != "on" {
		b.Fatalf("archive_mode is %q after the restart, want on", got)
	}
}

// waitArchived switches p to a new WAL segment and waits (within the
// given time) until the server's archiver has archived the one it left;
// it returns how long that took.
func waitArchived(b *testing.B, p *testenv.Postgres, within time.Duration) time.Duration {
	b.Helper()
	start := time.Now()
	seg := strings.TrimSpace(p.SQL(b, "postgres", "SELECT pg_walfile_name(pg_switch_wal())"))
	for deadline := start.Add(within); ; time.Sleep(200 * time.Millisecond) {
		out := strings.TrimSpace(p.SQL(b, "postgres", fmt.Sprintf(
			"SELECT coalesce(last_archived_wal, '') >= '%s', failed_count FROM pg_stat_archiver", seg)))
		if strings.HasPrefix(out, "t|") {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			b.Fatalf("segment %s not archived within %s (archived, failures: %s)\nserver log:\n%s", seg, within, out, p.LogTail(20))
		}
	}
}

var pgbenchDone = regexp.MustCompile(`number of transactions actually processed: (\d+)`)

// pgbenchLoad runs pgbench's TPC-B-like transactions on database db of
// p from two clients, as fast as the server takes them, for d; it
// returns how many transactions were processed.
func pgbenchLoad(b *testing.B, p *testenv.Postgres, db string, d time.Duration) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, filepath.Join(p.BinDir, "pgbench"), "-n", "-c", "2", "-j", "2",
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), db)
	c.Env = p.Env()
	out, err := c.CombinedOutput()
	m := pgbenchDone.FindSubmatch(out)
	if err != nil || m == nil {
		b.Fatalf("pgbench: %v\n%s", err, tail(string(out), 20))
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// restored is a server started on a restored data directory.
type restored struct {
	*testenv.Postgres
	dir     string
	stopped bool
}

// startRestored starts a server with p's programs on the restored data
// directory dir (WAL archiving off, p's settings else) and waits until it
// has left recovery and takes writes, at most within; it returns the
// server and the time from the start. The test's end stops it.
func startRestored(b *testing.B, p *testenv.Postgres, dir string, within time.Duration) (*restored, time.Duration) {
	b.Helper()
	q := *p
	q.Port = testenv.FreePort(b)
	r := &restored{Postgres: &q, dir: dir}
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c archive_mode=off -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c shared_buffers=32MB -c max_connections=30 -c logging_collector=off", q.Port, p.Dir)
	start := time.Now()
	runServerTool(b, p, time.Minute, "pg_ctl", "-D", dir, "-l", dir+".log", "-W", "-o", opts, "start")
	b.Cleanup(func() { r.stop(b) })
	for deadline := start.Add(within); ; time.Sleep(100 * time.Millisecond) {
		out, err := q.Exec("postgres", "SELECT pg_is_in_recovery()::text || ' ' || current_setting('transaction_read_only')")
		if err == nil && strings.TrimSpace(out) == "false off" {
			return r, time.Since(start)
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(dir + ".log")
			b.Fatalf("the server on %s has not left recovery within %s (%q, %v):\n%s", dir, within, out, err, tail(string(log), 30))
		}
	}
}

// stop stops the server (immediate: it is thrown away) and removes its
// data directory and log.
func (r *restored) stop(b *testing.B) {
	if r.stopped {
		return
	}
	r.stopped = true
	c := asServerUser(r.Postgres, filepath.Join(r.ServerBinDir, "pg_ctl"), "-D", r.dir, "-m", "immediate", "-w", "-t", "60", "stop")
	if out, err := c.CombinedOutput(); err != nil {
		b.Logf("cannot stop the server on %s: %v %s", r.dir, err, out)
	}
	_ = os.RemoveAll(r.dir)
	_ = os.Remove(r.dir + ".log")
}

// TestParseWALPosition: a segment name and an offset, or an error naming
// what was read.
func TestParseWALPosition(t *testing.T) {
	name, pos, err := parseWALPosition("000000010000000000000003 4096\n", nil)
	if err != nil || name != "000000010000000000000003" || pos != 4096 {
		t.Fatalf("got %q %d %v", name, pos, err)
	}
	for _, bad := range []string{"", "000000010000000000000003", "0003 12", "000000010000000000000003 -1", "000000010000000000000003 x"} {
		if _, _, err := parseWALPosition(bad, nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, _, err := parseWALPosition("000000010000000000000003 1", fmt.Errorf("refused")); err == nil {
		t.Error("a failed query gave no error")
	}
}
