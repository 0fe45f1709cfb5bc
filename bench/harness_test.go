package bench

import (
	"encoding/json"
	"fmt"
	"math"
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

// scale is the dataset size: pgbench's scale factor (about 10 MB of dump
// per unit), and as many 110,000-row units of random text (about 15 MB).
// The figures are at 50 (make bench's default); go test's default
// keeps a run short.
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

// reportOnly is BENCH_TARGETS=report: a missed target is printed as
// MISSED but does not fail the benchmark (for exploration).
func reportOnly() bool { return os.Getenv("BENCH_TARGETS") == "report" }

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// TestMain runs the test binary as one of its helper processes when the
// environment says so (the launcher, the floor's uploader, the memory
// probe), else the benchmarks.
func TestMain(m *testing.M) {
	if res := os.Getenv(launchEnv); res != "" {
		os.Exit(launch(res, os.Args[1:]))
	}
	if cfg := os.Getenv(uploadEnv); cfg != "" {
		os.Exit(upload(cfg, os.Args[1:]))
	}
	if spec := os.Getenv(probeEnv); spec != "" {
		os.Exit(probe(spec))
	}
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dbbackupBinary builds cmd/dbbackup once per run and returns its path;
// DBBACKUP_BENCH_BINARY names another build to time instead (to measure a
// change against the build before it).
func dbbackupBinary(b testing.TB) string {
	b.Helper()
	if p := os.Getenv("DBBACKUP_BENCH_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "dbbackup-bench-"); buildErr != nil {
			return
		}
		// Built as the charms ship it (cmd/charmpack): static, without
		// cgo, so that no C library is mapped into what is measured
		// that the deployed binary would not map.
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(buildDir, "dbbackup"), "./cmd/dbbackup")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
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

// dbbackupCmd is the dbbackup binary with the database's password in its
// environment.
func dbbackupCmd(b testing.TB, env []string, args ...string) *exec.Cmd {
	c := exec.Command(dbbackupBinary(b), args...)
	c.Env = env
	return c
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

// maxRSS is the largest tree peak of the runs.
func (s series) maxRSS() int64 {
	var r int64
	for _, m := range s {
		r = max(r, m.rss)
	}
	return r
}

func (s series) String() string {
	parts := make([]string, len(s))
	cpu := make([]time.Duration, len(s))
	var largest int64
	for i, m := range s {
		parts[i] = fmt.Sprintf("%.2f", m.wall.Seconds())
		cpu[i] = m.cpu
		largest = max(largest, m.largest)
	}
	slices.Sort(cpu)
	return fmt.Sprintf("median %.2fs of [%s], cpu %.2fs, peak RSS %.1f MiB (largest process %.1f MiB)",
		s.median().Seconds(), strings.Join(parts, " "), cpu[len(cpu)/2].Seconds(), mib(s.maxRSS()), mib(largest))
}

// report prints the lines of one benchmark's results and judges its
// targets: a missed target fails the benchmark unless BENCH_TARGETS=report.
type report struct {
	b     *testing.B
	title string
}

func (r report) line(format string, args ...any) {
	fmt.Printf("%s: %s\n", r.title, fmt.Sprintf(format, args...))
}

// met says whether x is within target (at most when below is true, at
// least otherwise); a figure that is not a positive finite number (a zero
// baseline, NaN) never is.
func met(x, target float64, below bool) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
		return false
	}
	if below {
		return x <= target
	}
	return x >= target
}

// judge prints a figure against its target and fails b when it is missed.
func (r report) judge(name string, x, target float64, below bool, format string) {
	op := "<="
	if !below {
		op = ">="
	}
	verdict := "MET"
	if !met(x, target, below) {
		verdict = "MISSED"
		r.miss("%s: "+format+" (target %s "+format+")", name, x, op, target)
	}
	r.line("%s: "+format+" (target %s "+format+") %s", name, x, op, target, verdict)
}

// miss fails the benchmark for a missed target unless BENCH_TARGETS=report.
func (r report) miss(format string, args ...any) {
	if reportOnly() {
		return
	}
	r.b.Errorf("%s: target missed: %s (BENCH_TARGETS=report only prints it)", r.title, fmt.Sprintf(format, args...))
}

// ratio judges got/base against the target and reports it as the metric
// unit.
func (r report) ratio(name string, got, base time.Duration, target float64, below bool, unit string) {
	x := got.Seconds() / base.Seconds()
	r.judge("ratio "+name, x, target, below, "%.2fx")
	r.b.ReportMetric(x, unit)
}

// info prints got/base without a target.
func (r report) info(name string, got, base time.Duration) {
	r.line("ratio %s: %.2fx (no target)", name, got.Seconds()/base.Seconds())
}

// notMeasured reports a target that could not be measured: a miss.
func (r report) notMeasured(name, why string) {
	r.line("%s: NOT MEASURED (%s)", name, why)
	r.miss("%s not measured: %s", name, why)
}

// storageConfigFile writes a storage configuration for the dbbackup binary.
func storageConfigFile(b testing.TB, cfg dbbackup.StorageConfig) string {
	b.Helper()
	doc := map[string]string{
		"bucket": cfg.Bucket, "access-key": cfg.AccessKey, "secret-key": cfg.SecretKey,
		"endpoint": cfg.Endpoint, "region": cfg.Region, "s3-uri-style": "path", "path": cfg.Path,
	}
	if len(cfg.TLSCAChain) > 0 {
		chain, err := json.Marshal(cfg.TLSCAChain)
		if err != nil {
			b.Fatal(err)
		}
		doc["tls-ca-chain"] = string(chain)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
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

func parseBackupReport(b testing.TB, out []byte) backupReport {
	b.Helper()
	var r backupReport
	if err := json.Unmarshal(out, &r); err != nil || r.ArtefactPath == "" || r.RawBytes <= 0 || r.StoredBytes <= 0 {
		b.Fatalf("cannot read dbbackup's report %q: %v", out, err)
	}
	return r
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// toDevNull sends cmd's output to /dev/null, as `> /dev/null` does.
func toDevNull(b testing.TB, cmd *exec.Cmd) *exec.Cmd {
	b.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	cmd.Stdout = f
	return cmd
}
