package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// uploadChildEnv names the storage configuration file with which the test
// binary, started again as a child, uploads without end until killed.
const uploadChildEnv = "DBBACKUP_TEST_UPLOAD_FOREVER"

func TestMain(m *testing.M) {
	if cfgFile := os.Getenv(uploadChildEnv); cfgFile != "" {
		os.Exit(uploadForever(cfgFile))
	}
	os.Exit(m.Run())
}

// uploadForever puts pg/job-killed/data.zst from a slow endless source, as
// a backup does, and returns only on failure.
func uploadForever(cfgFile string) int {
	st, _, err := openStore(cfgFile)
	if err != nil {
		return 3
	}
	_, err = st.Put(context.Background(), "pg/job-killed/data.zst", slowSource{}, store.PutOptions{})
	os.Stderr.WriteString("the endless upload ended: " + err.Error() + "\n")
	return 3
}

// slowSource yields zeros at about 4 MiB/s.
type slowSource struct{}

func (slowSource) Read(p []byte) (int, error) {
	n := min(len(p), 64<<10)
	clear(p[:n])
	time.Sleep(15 * time.Millisecond)
	return n, nil
}

// killUploader starts the test binary as a child uploading through
// cfgFile, waits until the server lists its multipart upload, and kills it
// with SIGKILL: nothing in the process can abort the upload.
func killUploader(t *testing.T, srv *testenv.S3Server, bucket, cfgFile string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), uploadChildEnv+"="+cfgFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-done
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Uploads(t, bucket)) == 0 {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the uploading child ended (%v) before it started an upload: %s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the uploading child started no upload in 30 s: %s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// testListReportsUploads leaves unfinished uploads behind (a child killed
// mid-upload, uploads started directly under a complete backup, alone in a
// folder and outside any backup folder) and checks that list counts them,
// lists each in --json under its backup, and names the stray one.
func testListReportsUploads(t *testing.T, srv *testenv.S3Server) {
	cfg, cfgFile, st := teamBucket(t, srv)
	dump := copyLines(1)
	if _, err := artefact.Backup(context.Background(), st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, dump); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "list", "--storage-config", cfgFile); code != 0 || strings.Contains(out+errOut, "unfinished") {
		t.Fatalf("list before any upload was left: code %d\n%s%s", code, out, errOut)
	}

	killUploader(t, srv, "backups", cfgFile)
	srv.StartUpload(t, "backups", "team/a/pg/job-1/extra.zst")
	srv.StartUpload(t, "backups", "team/a/pg/job-3/data.zst")
	srv.StartUpload(t, "backups", "team/a/pg/catalog.json")
	srv.StartUpload(t, "backups", "team/b/pg/job-9/data.zst") // outside the storage path

	code, out, errOut := runCLI(t, "", "list", "--storage-config", cfgFile)
	if code != 0 || !strings.Contains(out, "4 unfinished uploads") || !strings.Contains(out, "team/a/pg/job-killed/") ||
		!strings.Contains(squeeze(out), "team/a/pg/job-1/ postgresql complete") || strings.Contains(out, "team/b/") {
		t.Fatalf("list: code %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "unfinished upload team/a/pg/catalog.json") || !strings.Contains(errOut, "outside any backup folder") {
		t.Errorf("list did not name the upload outside any backup folder: %s", errOut)
	}

	code, out, errOut = runCLI(t, "", "list", "--storage-config", cfgFile, "--json")
	var listed []listedBackup
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil {
		t.Fatalf("list --json: code %d\n%s%s", code, out, errOut)
	}
	got := map[string][]string{}
	for _, b := range listed {
		for _, u := range b.Uploads {
			if u.ID == "" || u.Initiated.IsZero() || time.Since(u.Initiated) > time.Hour {
				t.Errorf("upload %+v of %s: no id or a wrong initiated time", u, b.ArtefactPath)
			}
			got[b.ArtefactPath] = append(got[b.ArtefactPath], u.Key)
		}
	}
	want := map[string][]string{
		"team/a/pg/job-1/":      {"team/a/pg/job-1/extra.zst"},
		"team/a/pg/job-3/":      {"team/a/pg/job-3/data.zst"},
		"team/a/pg/job-killed/": {"team/a/pg/job-killed/data.zst"},
	}
	if len(got) != len(want) {
		t.Errorf("list --json uploads = %q, want %q", got, want)
	}
	for path, keys := range want {
		if !slices.Equal(got[path], keys) {
			t.Errorf("list --json uploads of %s = %q, want %q", path, got[path], keys)
		}
	}
	for _, b := range listed {
		if b.ArtefactPath == "team/a/pg/job-1/" && !b.Complete {
			t.Errorf("the complete backup with a stray upload is listed incomplete: %+v", b)
		}
		if b.ArtefactPath == "team/a/pg/job-3/" && b.Complete {
			t.Errorf("a folder of uploads alone is listed complete: %+v", b)
		}
	}

	// A scope holding none reports none.
	code, out, errOut = runCLI(t, "", "list", "--storage-config", cfgFile, "--scope", "my")
	if code != 0 || strings.Contains(out+errOut, "unfinished") {
		t.Errorf("list --scope my: code %d\n%s%s", code, out, errOut)
	}
	mustNotLeak(t, cfg.Secrets(), out, errOut)
}

func TestListReportsUploadsVersityGW(t *testing.T) {
	testListReportsUploads(t, testenv.StartVersityGW(t))
}

func TestListReportsUploadsMinIO(t *testing.T) { testListReportsUploads(t, testenv.StartMinIO(t)) }
