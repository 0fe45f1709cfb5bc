package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// writeStorageConfig writes cfg as a YAML file with the s3 interface's names.
func writeStorageConfig(t *testing.T, cfg dbbackup.StorageConfig) string {
	t.Helper()
	lines := []string{
		"bucket: " + cfg.Bucket,
		"access-key: " + cfg.AccessKey,
		"secret-key: " + cfg.SecretKey,
		"endpoint: " + cfg.Endpoint,
		"s3-uri-style: path",
	}
	if cfg.Region != "" {
		lines = append(lines, "region: "+cfg.Region)
	}
	if cfg.Path != "" {
		lines = append(lines, "path: "+cfg.Path)
	}
	p := filepath.Join(t.TempDir(), "s3.yaml")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// teamBucket makes the bucket "backups" on srv and returns a storage
// configuration for its path "team/a", written to a file, and the store
// it opens.
func teamBucket(t *testing.T, srv *testenv.S3Server) (dbbackup.StorageConfig, string, *s3.Store) {
	t.Helper()
	srv.CreateBucket(t, "backups")
	cfg := srv.StorageConfig("backups")
	cfg.Path = "team/a"
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, writeStorageConfig(t, cfg), st
}

// copyLines is a producer that writes n lines of a PostgreSQL dump of the
// database "app".
func copyLines(n int) artefact.Producer {
	return func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, strings.Repeat("COPY t FROM stdin;\n", n))
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}}, nil
	}
}

func TestListVerifyDeleteOnRealS3(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	cfg, cfgFile, st := teamBucket(t, srv)
	ctx := context.Background()
	dump := copyLines(50000)
	for _, id := range []string{"job-1", "job-2"} {
		if _, err := artefact.Backup(ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "postgresql", JobID: id, Compression: true}, dump); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCLI(t, "", "list", "--storage-config", cfgFile)
	if code != 0 || !strings.Contains(out, "team/a/postgresql/job-2/") || !strings.Contains(out, "complete") || !strings.Contains(out, "app") {
		t.Fatalf("list: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "list", "--storage-config", cfgFile, "--json")
	var listed []listedBackup
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 2 || listed[0].JobID != "job-2" || listed[0].ArtefactPath != "team/a/postgresql/job-2/" {
		t.Fatalf("list --json: code %d\n%s", code, out)
	}
	path := artefact.Ref{Scope: "postgresql", JobID: "job-1"}.Under(cfg.Path).Path()
	if code, out, errOut := runCLI(t, "", "verify", "--storage-config", cfgFile, "--artefact-path", path); code != 0 || !strings.Contains(out, "checksums match") {
		t.Fatalf("verify: code %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", path); code != 0 {
		t.Fatalf("delete: code %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "verify", "--storage-config", cfgFile, "--artefact-path", path)
	if code != 1 || !strings.Contains(errOut, "no backup at team/a/postgresql/job-1/") {
		t.Fatalf("verify of a deleted backup: code %d, %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", path); code != 1 || !strings.Contains(errOut, "no backup at team/a/postgresql/job-1/") || strings.Contains(out, "deleted") {
		t.Fatalf("delete of a deleted backup: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "list", "--storage-config", cfgFile)
	if code != 0 || strings.Contains(out, "job-1") || !strings.Contains(out, "job-2") {
		t.Fatalf("list after delete:\n%s", out)
	}
	for _, args := range [][]string{{"list", "--storage-config", cfgFile}, {"verify", "--storage-config", cfgFile, "--artefact-path", "x/../y"}} {
		_, out, errOut := runCLI(t, "", args...)
		if strings.Contains(out+errOut, cfg.SecretKey) || strings.Contains(out+errOut, cfg.AccessKey) {
			t.Fatalf("%v printed a credential", args)
		}
	}
}

// TestDeleteAndVerifyOfNoBackup tries to delete more than one backup with
// the CLI, and to have it report a deletion or an incomplete backup where
// there is no backup at all.
func TestDeleteAndVerifyOfNoBackup(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	_, cfgFile, st := teamBucket(t, srv)
	ctx := context.Background()
	dump := copyLines(1000)
	ids := []string{"job-1", "job-2", "job-3"}
	for _, id := range ids {
		if _, err := artefact.Backup(ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "postgresql", JobID: id}, dump); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"team/a/postgresql/", "/team/a/postgresql", "team/a/"} {
		code, out, errOut := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", p)
		if code != 1 || strings.Contains(out, "deleted") {
			t.Errorf("delete %s: code %d, want 1\n%s%s", p, code, out, errOut)
		}
	}
	// One segment cannot name a backup: refused as a usage error, before
	// the store is asked anything.
	if code, out, errOut := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", "team/"); code != 2 || !strings.Contains(errOut, "must end in <scope>/<job-id>/") || strings.Contains(out, "deleted") {
		t.Errorf("delete team/: code %d, want 2 and the path refused\n%s%s", code, out, errOut)
	}
	if _, _, errOut := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", "team/a/postgresql/"); !strings.Contains(errOut, "team/a/postgresql/ is not one backup: it holds folders") {
		t.Errorf("delete of a scope: %s, want it refused as not one backup", errOut)
	}
	if code, _, _ := runCLI(t, "", "delete", "--storage-config", cfgFile, "--artefact-path", ""); code != 2 {
		t.Errorf("delete of an empty path: code %d, want 2", code)
	}
	for _, id := range ids {
		p := "team/a/postgresql/" + id + "/"
		if code, out, errOut := runCLI(t, "", "verify", "--storage-config", cfgFile, "--artefact-path", p); code != 0 {
			t.Errorf("verify %s after the refused deletions: code %d\n%s%s", p, code, out, errOut)
		}
	}
	missing := "team/a/postgresql/job-404/"
	for _, cmd := range []string{"delete", "verify"} {
		code, out, errOut := runCLI(t, "", cmd, "--storage-config", cfgFile, "--artefact-path", missing)
		if code != 1 || !strings.Contains(errOut, "no backup at "+missing) || strings.Contains(errOut, "incomplete") || strings.Contains(out, "deleted") {
			t.Errorf("%s of a missing backup: code %d, want 1 and %q\n%s%s", cmd, code, "no backup at "+missing, out, errOut)
		}
	}
	// restore reads the manifest before it connects to the database.
	code, out, errOut := runCLI(t, "", "restore", "--engine", "postgresql", "--database-url", "postgres://app@127.0.0.1:1/app",
		"--storage-config", cfgFile, "--artefact-path", missing)
	if code != 1 || !strings.Contains(errOut, "no backup at "+missing) {
		t.Errorf("restore of a missing backup: code %d, want 1 and %q\n%s%s", code, "no backup at "+missing, out, errOut)
	}
}

func TestStoreCommandsRefuseBadArguments(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("bucket: b\naccess-key: CANARY-AK\nsecret-key: CANARY-SK\ns3-api-version: 3\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "--storage-config FILE is required"},
		{[]string{"list", "--storage-config", "/nonexistent"}, "cannot read the storage configuration"},
		{[]string{"list", "--storage-config", bad}, "storage-config.s3-api-version: must be 2 or 4"},
		{[]string{"verify", "--storage-config", bad, "--artefact-path", "a"}, "s3-api-version"},
		{[]string{"delete", "--help"}, "manifest first"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, "", c.args...)
		if !strings.Contains(out+errOut, c.want) || strings.Contains(out+errOut, "CANARY") {
			t.Errorf("%v: code %d, output:\n%s%s\nwant %q and no credential", c.args, code, out, errOut, c.want)
		}
	}
}
