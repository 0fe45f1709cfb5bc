package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// scale is the dataset size: pgbench's scale factor (about 15 MB of dump
// per unit), and as many 110,000-row units of random text. The issue's
// figures are at 50 (about 750 MB); the default keeps `make bench` short.
func scale() int { return envInt("DBBACKUP_BENCH_SCALE", 10) }

// rounds is how many times each timed command runs; medians are reported.
func rounds() int { return envInt("DBBACKUP_BENCH_ROUNDS", 3) }

func envInt(name string, def int) int {
	v, err := strconv.Atoi(os.Getenv(name))
	if err != nil || v <= 0 {
		return def
	}
	return v
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dbbackupBinary builds cmd/dbbackup once per run and returns its path;
// DBBACKUP_BENCH_BINARY names another build to time instead (to measure a
// change against the build before it).
func dbbackupBinary(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("DBBACKUP_BENCH_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "dbbackup-bench-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "dbbackup"), "./cmd/dbbackup")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatalf("cannot build dbbackup: %v", buildErr)
	}
	return filepath.Join(buildDir, "dbbackup")
}

// baselineBinary is DBBACKUP_BENCH_BASELINE: another dbbackup build (say,
// of the commit before a change) that the benchmarks that support it also
// time, in the same alternating rounds, to measure the change on a noisy
// machine; empty when unset.
func baselineBinary() string { return os.Getenv("DBBACKUP_BENCH_BASELINE") }

// baselineCmd is the baseline build with the database's password in its
// environment.
func baselineCmd(env []string, args ...string) *exec.Cmd {
	c := exec.Command(baselineBinary(), args...)
	c.Env = env
	return c
}

// measured is one timed run of a command.
type measured struct {
	wall   time.Duration
	maxRSS int64         // bytes: the largest of the process and its waited-for children
	cpu    time.Duration // user+system time of the process and its children
	stdout []byte
}

// timed runs cmd and fails b when it fails; stderr is shown only then (the
// commands never print credentials).
func timed(b *testing.B, what string, cmd *exec.Cmd) measured {
	b.Helper()
	var out, errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Start()
	var rss int64
	if err == nil {
		poll := pollRSS(cmd.Process.Pid, 10*time.Millisecond)
		err = cmd.Wait()
		rss = poll.Stop()
	}
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", what, err, tail(errb.String(), 20))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return measured{wall: wall, maxRSS: rss, cpu: cpu, stdout: out.Bytes()}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// series collects the runs of one command.
type series []measured

func (s series) median() time.Duration {
	w := make([]time.Duration, len(s))
	for i, m := range s {
		w[i] = m.wall
	}
	slices.Sort(w)
	return w[len(w)/2]
}

func (s series) maxRSS() int64 {
	var r int64
	for _, m := range s {
		r = max(r, m.maxRSS)
	}
	return r
}

func (s series) String() string {
	parts := make([]string, len(s))
	cpu := make([]time.Duration, len(s))
	for i, m := range s {
		parts[i] = fmt.Sprintf("%.2f", m.wall.Seconds())
		cpu[i] = m.cpu
	}
	slices.Sort(cpu)
	return fmt.Sprintf("median %.2fs of [%s], cpu %.2fs", s.median().Seconds(), strings.Join(parts, " "), cpu[len(cpu)/2].Seconds())
}

// report prints one line of the results table, and reports a ratio as a
// benchmark metric.
type report struct {
	b     *testing.B
	title string
}

func (r report) line(format string, args ...any) {
	fmt.Printf("%s: %s\n", r.title, fmt.Sprintf(format, args...))
}

// ratio prints got/base against the target (got/base <= target when below
// is true, >= otherwise) and reports it as the metric unit.
func (r report) ratio(name string, got, base time.Duration, target float64, below bool, unit string) {
	x := got.Seconds() / base.Seconds()
	ok := x <= target
	op := "<="
	if !below {
		ok, op = x >= target, ">="
	}
	verdict := "MET"
	if !ok {
		verdict = "MISSED"
	}
	r.line("ratio %s: %.2fx (target %s %.2f) %s", name, x, op, target, verdict)
	r.b.ReportMetric(x, unit)
}

// storageConfigFile writes a storage configuration for the dbbackup binary.
func storageConfigFile(b *testing.B, cfg dbbackup.StorageConfig) string {
	b.Helper()
	doc := map[string]string{
		"bucket": cfg.Bucket, "access-key": cfg.AccessKey, "secret-key": cfg.SecretKey,
		"endpoint": cfg.Endpoint, "region": cfg.Region, "s3-uri-style": "path", "path": cfg.Path,
	}
	if len(cfg.TLSCAChain) > 0 {
		chain, _ := json.Marshal(cfg.TLSCAChain)
		doc["tls-ca-chain"] = string(chain)
	}
	data, _ := json.Marshal(doc)
	p := filepath.Join(b.TempDir(), "s3.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// backupReport is the part of `dbbackup backup --json` the benchmarks use.
type backupReport struct {
	ArtefactPath string `json:"artefact-path"`
	RawBytes     int64  `json:"raw-bytes"`
	StoredBytes  int64  `json:"stored-bytes"`
}

func parseBackupReport(b *testing.B, out []byte) backupReport {
	b.Helper()
	var r backupReport
	if err := json.Unmarshal(out, &r); err != nil || r.ArtefactPath == "" {
		b.Fatalf("cannot read dbbackup's report %q: %v", out, err)
	}
	return r
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// toDevNull sends cmd's output to /dev/null, as `> /dev/null` does.
func toDevNull(b *testing.B, cmd *exec.Cmd) *exec.Cmd {
	b.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	cmd.Stdout = f
	return cmd
}
