package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memoryLimit is the memory the CLI is given in TestBoundedMemory: more
// than enough for any bounded input, far less than an unbounded read of
// the inputs there.
const memoryLimit = 1 << 30

// limited returns a command that runs bin with args with at most
// memoryLimit bytes of data: RLIMIT_DATA, through prlimit, or through the
// shell's ulimit where prlimit is missing. Since Linux 4.7 RLIMIT_DATA
// counts every private writable mapping, so the whole Go heap. An
// address-space limit (RLIMIT_AS, prlimit --as) does not work here: the Go
// runtime reserves address space it never uses, and about one start in
// three dies of "out of memory" at --help under a 1 GiB RLIMIT_AS.
func limited(ctx context.Context, bin string, args ...string) *exec.Cmd {
	if p, err := exec.LookPath("prlimit"); err == nil {
		return exec.CommandContext(ctx, p, append([]string{"--data=" + strconv.Itoa(memoryLimit), "--", bin}, args...)...)
	}
	return exec.CommandContext(ctx, "sh", append([]string{"-c", `ulimit -d ` + strconv.Itoa(memoryLimit>>10) + ` && exec "$0" "$@"`, bin}, args...)...)
}

// TestBoundedMemory gives every file-reading flag and argument of the CLI
// an endless device and a 2 GiB sparse file, with 1 GiB of memory: each is refused at once with exit 2 and an error naming the input,
// instead of reading until the process dies.
func TestBoundedMemory(t *testing.T) {
	bin := buildCommand(t, ".", "dbbackup")
	dir := t.TempDir()
	sparse := filepath.Join(dir, "sparse")
	if err := os.WriteFile(sparse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(sparse, 2<<30); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "s3.yaml")
	if err := os.WriteFile(cfg, []byte("bucket: backups\naccess-key: AKCANARY\nsecret-key: SKCANARY\nendpoint: http://127.0.0.1:1\ns3-uri-style: path\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The limit is in force, and the runtime starts under it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := limited(ctx, "sh", "-c", "ulimit -d").Output(); err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(memoryLimit>>10) {
		t.Fatalf("the memory limit is not in force: %q, %v", out, err)
	}
	for range 5 {
		if out, err := limited(ctx, bin, "--help").CombinedOutput(); err != nil {
			t.Fatalf("the CLI does not start with 1 GiB of memory: %v\n%s", err, out)
		}
	}

	pg := "postgres://u@127.0.0.1:1/db"
	cases := []struct {
		name  string
		args  func(input string) []string
		stdin bool // the input goes to standard input, named "-"
		// keyFile marks the --encryption-key-file cases: the key file is
		// read by artefact.ReadKeyFile, whose bound is its own (its error
		// text is not this package's).
		keyFile bool
	}{
		{name: "list --storage-config", args: func(in string) []string { return []string{"list", "--storage-config", in} }},
		{name: "backup --storage-config", args: func(in string) []string {
			return []string{"backup", "--engine", "postgresql", "--database-url", pg, "--storage-config", in}
		}},
		{name: "restore --storage-config", args: func(in string) []string {
			return []string{"restore", "--engine", "postgresql", "--database-url", pg, "--storage-config", in, "--artefact-path", "a/b/"}
		}},
		{name: "verify --storage-config", args: func(in string) []string { return []string{"verify", "--storage-config", in, "--artefact-path", "a/b/"} }},
		{name: "delete --storage-config", args: func(in string) []string { return []string{"delete", "--storage-config", in, "--artefact-path", "a/b/"} }},
		{name: "validate FILE", args: func(in string) []string { return []string{"validate", "--side", "requirer", in} }},
		{name: "jobs FILE", args: func(in string) []string { return []string{"jobs", in} }},
		{name: "validate -", stdin: true, args: func(string) []string { return []string{"validate", "--side", "provider", "-"} }},
		{name: "jobs -", stdin: true, args: func(string) []string { return []string{"jobs", "-"} }},
		{name: "backup --encryption-key-file", keyFile: true, args: func(in string) []string {
			return []string{"backup", "--engine", "postgresql", "--database-url", pg, "--storage-config", cfg, "--encryption-key-file", in}
		}},
		{name: "restore --encryption-key-file", keyFile: true, args: func(in string) []string {
			return []string{"restore", "--engine", "postgresql", "--database-url", pg, "--storage-config", cfg, "--artefact-path", "a/b/", "--encryption-key-file", in}
		}},
		{name: "verify --encryption-key-file", keyFile: true, args: func(in string) []string {
			return []string{"verify", "--storage-config", cfg, "--artefact-path", "a/b/", "--encryption-key-file", in}
		}},
	}
	for _, c := range cases {
		for _, input := range []string{"/dev/zero", sparse} {
			if c.stdin && input == sparse {
				continue // a file on standard input is read as a stream, like /dev/zero
			}
			t.Run(c.name+" "+filepath.Base(input), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				cmd := limited(ctx, bin, c.args(input)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if c.stdin {
					f, err := os.Open(input)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					cmd.Stdin = f
				}
				start := time.Now()
				err := cmd.Run()
				took := time.Since(start)
				code := cmd.ProcessState.ExitCode()
				msg := stderr.String()
				named := strings.Contains(msg, input)
				if c.stdin {
					named = strings.Contains(msg, "standard input")
				}
				if c.keyFile {
					named = named || strings.Contains(msg, "encryption key")
				} else if !strings.Contains(msg, "is larger than") {
					named = false
				}
				if code != exitUsage || !named || took > 5*time.Second || strings.Contains(msg, "out of memory") || strings.Contains(msg, "goroutine ") {
					t.Errorf("%q: exit %d (%v) after %s; stderr:\n%.2000s\nwant exit 2 within seconds and an error naming the input and its bound",
						c.args(input), code, err, took.Round(time.Millisecond), msg)
				}
			})
		}
	}
}
