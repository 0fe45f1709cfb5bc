package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// archiverRSSTarget is the bound on the binary log archiver's
// peak RSS (its whole tree: dbbackup and mariadb-binlog).
const archiverRSSTarget = 40 << 20

// archiverLagTarget bounds the time from a commit to its bytes being in
// the bucket: the file being written is stored at least every 10 s.
const archiverLagTarget = 10 * time.Second

// pitrLoad is how long the write load runs: 6 s per unit of scale, so
// make bench's scale 50 gives the 5 minutes.
func pitrLoad() time.Duration { return time.Duration(scale()) * 6 * time.Second }

// BenchmarkMariaDBPointInTime measures MariaDB point-in-time recovery.
//
// A source server with a binary log holds a sysbench-like table (2,000
// rows per unit of scale); `dbbackup archive-binlog` runs under the
// launcher while `dbbackup backup` takes the base and two clients then
// write sysbench write-only transactions (an indexed update, an update, a
// delete and an insert each) as fast as the server takes them for
// pitrLoad. Meanwhile the archiver's tree RSS is sampled every 10 ms to
// its end, and its lag is the time from each 200 ms sample of the
// source's binary log position to the first moment the bucket holds that
// position (a complete file, or one being written whose pieces reach that
// far, its tail read back).
//
// Then, in alternating rounds on a second server: `dbbackup restore
// --restore-to-time` (base restore, fetch and check of the archive, and
// replay) against `dbbackup restore` of the same base followed by
// `mariadb-binlog --start-position --stop-datetime <the same binary logs,
// copied from the source's data directory> | mariadb`, each checked by
// content checksums against the source. Our replay is our restore to a
// time less the median base restore of the same rounds.
func BenchmarkMariaDBPointInTime(b *testing.B) {
	src := testenv.StartMariaDBWith(b, testenv.MariaDBOptions{Binlog: true})
	dst := testenv.StartMariaDB(b)
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "pitr"
	cfgFile := storageConfigFile(b, cfg)
	srcEnv := append(os.Environ(), "MYSQL_PWD="+src.Password)
	dstEnv := append(os.Environ(), "MYSQL_PWD="+dst.Password)
	n := scale()
	rows := 2000 * n
	// The server's own max_binlog_size (1 GiB): the file being written is
	// stored whole each time, so its size is part of what the lag measures.
	src.SQL(b, "", fmt.Sprintf(`CREATE DATABASE shop; USE shop;
CREATE TABLE sbtest (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY k (k)) ENGINE=InnoDB;
INSERT INTO sbtest SELECT seq, FLOOR(RAND() * %d), LEFT(REPEAT(MD5(RAND()), 4), 120), LEFT(REPEAT(MD5(RAND()), 2), 60) FROM seq_1_to_%d;`, rows, rows))
	r := report{b: b, title: fmt.Sprintf("mariadb/point-in-time scale %d (%s of writes)", n, pitrLoad())}

	// The archiver, under the launcher, for its tree's RSS.
	arch := startBackground(b, "archive-binlog", srcEnv, dbbackupBinary(b), "archive-binlog", "--database-url", src.URL(""), "--storage-config", cfgFile, "--scope", "my")

	out, err := dbbackupCmd(b, srcEnv, "backup", "--engine", "mysql", "--database-url", src.URL("shop"),
		"--storage-config", cfgFile, "--scope", "my", "--job-id", "base", "--json").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		b.Fatalf("base backup: %v\n%s", err, tail(string(stderr), 20))
	}
	base := parseBackupReport(b, out)
	root, err := s3.NewRoot(cfg, s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := artefact.Open(context.Background(), root, base.ArtefactPath, nil)
	if err != nil || m.Engine.Binlog == nil {
		b.Fatalf("the base's manifest: %v (binary log position %v)", err, m.Engine.Binlog)
	}
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		b.Fatal(err)
	}

	lag := watchLag(b, binlogLag(src), st, "my")
	txs := writeLoad(b, src, rows, pitrLoad())
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	src.SQL(b, "", "FLUSH BINARY LOGS")
	lags := lag.stop(b, time.Minute)
	// The archive reaches as far as its last store, in whole seconds:
	// the store at SIGTERM must come a second after the target.
	time.Sleep(time.Until(target.Add(2 * time.Second)))
	tree, largest, peak, lr := arch.stop(b, 2*time.Minute)
	r.line("write load: %d transactions in %s (%.0f/s), %d lag samples", txs, pitrLoad(), float64(txs)/pitrLoad().Seconds(), len(lags))
	r.line("archiver: peak RSS %.1f MiB (largest process %.1f MiB, %d samples; the peak sample: %s), cpu %.2fs", mib(tree), mib(largest), peak.samples, peak, lr.CPU.Seconds())
	r.judge("archiver peak RSS", mib(tree), mib(archiverRSSTarget), true, "%.1f MiB")
	if len(lags) == 0 {
		r.notMeasured("archiver lag", "no sample of the binary log position")
	} else {
		r.line("archiver lag: median %.2fs, max %.2fs", lags.median().Seconds(), lags.max().Seconds())
		r.judge("archiver max lag", lags.max().Seconds(), archiverLagTarget.Seconds(), true, "%.2fs")
	}
	b.ReportMetric(mib(tree), "archiver-peak-RSS-MiB")
	b.ReportMetric(lags.max().Seconds(), "archiver-max-lag-s")

	want := mariaSums(b, src, "shop")
	files := copyBinlogs(b, src, m.Engine.Binlog.File)
	stop := target.Truncate(time.Second).Add(time.Second)
	for b.Loop() {
		fresh := func() { dst.SQL(b, "", "DROP DATABASE IF EXISTS shop; CREATE DATABASE shop") }
		check := func(what string) {
			if diffs := testenv.DiffSums(want, mariaSums(b, dst, "shop")); len(diffs) > 0 {
				b.Fatalf("%s restored different content:\n%s", what, strings.Join(diffs, "\n"))
			}
		}
		var bases series
		steps := []step{
			{"dbbackup", func(int) measured {
				fresh()
				got := timed(b, "dbbackup restore --restore-to-time", dbbackupCmd(b, dstEnv, "restore", "--engine", "mysql",
					"--database-url", dst.URL("shop"), "--storage-config", cfgFile, "--artefact-path", base.ArtefactPath,
					"--restore-to-time", target.Format(time.RFC3339Nano)))
				check("dbbackup restore --restore-to-time")
				return got
			}},
			{"mariadb-binlog", func(int) measured {
				fresh()
				bases = append(bases, timed(b, "dbbackup restore", dbbackupCmd(b, dstEnv, "restore", "--engine", "mysql",
					"--database-url", dst.URL("shop"), "--storage-config", cfgFile, "--artefact-path", base.ArtefactPath)))
				got := timed(b, "mariadb-binlog | mariadb", replayCmd(dst, dstEnv, m.Engine.Binlog.Position, stop, files))
				check("dbbackup restore, then mariadb-binlog | mariadb")
				return got
			}},
		}
		got := alternate(rounds(), steps)
		ours, tools := got[0], got[1]
		replay := ours.median() - bases.median()
		r.line("%d binary log files, %.1f MiB, from %s:%d", len(files), mib(sizeOf(b, files)), m.Engine.Binlog.File, m.Engine.Binlog.Position)
		r.line("dbbackup restore --restore-to-time:                 %s", ours)
		r.line("dbbackup restore of the base alone:                 %s", bases)
		r.line("mariadb-binlog local files | mariadb:               %s", tools)
		r.line("our replay (to a time less the base): %.2fs", replay.Seconds())
		r.ratio("replay/mariadb-binlog|mariadb", replay, tools.median(), 1.2, true, "replay/mariadb-binlog")
		r.info("restore to a time/(base restore + mariadb-binlog|mariadb)", ours.median(), bases.median()+tools.median())
	}
}

// replayCmd is `mariadb-binlog --start-position --stop-datetime files |
// mariadb` into dst in bash with pipefail, times read in UTC as ours are.
func replayCmd(dst *testenv.MariaDB, env []string, pos uint64, stop time.Time, files []string) *exec.Cmd {
	script := `binlog=$1 client=$2 opts=$3; shift 3
"$binlog" "$@" | "$client" --defaults-extra-file="$opts" --binary-mode`
	args := append([]string{"-o", "pipefail", "-c", script, "replay", mariaTool("mariadb-binlog", "mysqlbinlog"), mariaTool("mariadb", "mysql"),
		dst.OptionFile(), fmt.Sprintf("--start-position=%d", pos), "--stop-datetime=" + stop.UTC().Format("2006-01-02 15:04:05"), "--"}, files...)
	c := exec.Command("bash", args...)
	c.Env = append(env, "TZ=UTC")
	return c
}

// copyBinlogs copies the source's binary log files from first on into a
// temporary folder and returns their paths in sequence order.
func copyBinlogs(b *testing.B, src *testenv.MariaDB, first string) []string {
	b.Helper()
	dir := b.TempDir()
	var out []string
	for line := range strings.Lines(src.SQL(b, "", "SHOW BINARY LOGS")) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] < first { // same basename, fixed-width numbers
			continue
		}
		data, err := os.ReadFile(filepath.Join(src.Dir, "data", f[0]))
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, f[0])
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		b.Fatalf("the source has no binary log from %s on", first)
	}
	return out
}

func sizeOf(b *testing.B, paths []string) int64 {
	var n int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}
