package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// slowProxy forwards loopback TCP to target, uploads throttled to about up
// and downloads to about down bytes per second (0: not throttled), so a
// backup or a restore is reliably still running when killed.
func slowProxy(t *testing.T, target string, up, down int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, server)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); throttledCopy(server, c, up); server.Close() }()
			go func() { defer wg.Done(); throttledCopy(c, server, down); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// runKilled runs the program argv with env added, kills it with SIGKILL
// after 3 s (failing if it ended before), and returns its standard error.
func runKilled(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("%s ended before it could be killed (%v): %s", argv[1], err, stderr.String())
	case <-time.After(3 * time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	return stderr.String()
}

func throttledCopy(dst io.Writer, src io.Reader, rate int) {
	if rate == 0 {
		io.Copy(dst, src)
		return
	}
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
		}
		if err != nil {
			return
		}
	}
}

// TestBackupKilledMidwayIsIncompleteAndNeverRestored kills a real backup
// process with SIGKILL while it uploads: no manifest, list shows it
// incomplete, restore refuses it.
func TestBackupKilledMidwayIsIncompleteAndNeverRestored(t *testing.T) {
	pg := testenv.StartPostgres(t)
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	pg.SQL(t, "postgres", "CREATE DATABASE big")
	pg.SQL(t, "big", "CREATE TABLE t AS SELECT md5(i::text) || md5((i + 1)::text) AS v FROM generate_series(1, 300000) i")
	before := pg.Checksums(t, "big")

	bin := filepath.Join(t.TempDir(), "dbbackup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := srv.StorageConfig("backups")
	slow := cfg
	slow.Endpoint = "http://" + slowProxy(t, strings.TrimPrefix(cfg.Endpoint, "http://"), 1<<20, 0)
	slowFile, fastFile := writeStorageConfig(t, slow), writeStorageConfig(t, cfg)

	stderr := runKilled(t, []string{"PGPASSWORD=" + pg.Password}, bin, "backup", "--engine", "postgresql", "--database-url", pg.URL("big"), "--storage-config", slowFile, "--job-id", "job-killed", "--scope", "pg")

	code, out, errOut := runCLI(t, "", "list", "--storage-config", fastFile)
	if code != 0 || !strings.Contains(squeeze(out), "pg/job-killed/ postgresql incomplete") {
		t.Fatalf("list after the kill: code %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "verify", "--storage-config", fastFile, "--artefact-path", "pg/job-killed/")
	if code != 1 || !strings.Contains(errOut, "incomplete") {
		t.Fatalf("verify of the killed backup: code %d, %s", code, errOut)
	}
	t.Setenv("PGPASSWORD", pg.Password)
	code, _, errOut = runCLI(t, "", "restore", "--engine", "postgresql", "--database-url", pg.URL("big"), "--storage-config", fastFile, "--artefact-path", "pg/job-killed/")
	if code != 1 || !strings.Contains(errOut, "incomplete") {
		t.Fatalf("restore of the killed backup: code %d, %s", code, errOut)
	}
	if got := pg.Checksums(t, "big"); len(got) != len(before) || got["public.t"] != before["public.t"] {
		t.Fatalf("the database changed")
	}
	mustNotLeak(t, append(cfg.Secrets(), pg.Password), stderr, out, errOut)
}
