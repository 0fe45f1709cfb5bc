package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// pgRecoveryBound bounds a restored server's start to its promotion.
const pgRecoveryBound = 20 * time.Minute

// BenchmarkPostgresPointInTime measures PostgreSQL point-in-time
// recovery against pgBackRest's, on a server of its own holding a
// pgbench database of DBBACKUP_BENCH_SCALE.
//
// The server archives its WAL twice: through pgBackRest's archive-push
// (archive_command, set on this server only) and through `dbbackup
// archive-wal`, under the launcher, its tree's RSS sampled every 10 ms to
// its end. Then, in alternating rounds, pgBackRest's full backup
// (pgBackRestConfig: compress-type=zst at our level, process-max=2,
// start-fast, archive-check=n, so it does not wait for its WAL to be
// archived, where ours carries it) against `dbbackup backup --method
// physical`, both to one HTTPS versitygw. The last round's
// backups are the bases: pgbench then writes at full speed for pitrLoad,
// the target T is taken at a quiet moment after it, when the source's
// content checksums are taken too, and pgbench writes a few seconds more
// (so that both archives reach past T; the restores wait until
// pgBackRest's has archived the last of them). Meanwhile the archiver's lag is
// sampled (see lagWatch: each 200 ms sample of pg_current_wal_lsn() to
// the first look at the bucket that finds it stored).
//
// Last, in alternating rounds, `dbbackup restore --pgdata --restore-to-time
// T` then the server's start until it is promoted and takes writes,
// against `pgbackrest restore --type=time --target=T` then the same
// start; both restored clusters must hold the source's content at T.
func BenchmarkPostgresPointInTime(b *testing.B) {
	n := scale()
	r := report{b: b, title: fmt.Sprintf("postgres/point-in-time scale %d (%s of pgbench writes), HTTPS versitygw", n, pitrLoad())}
	if pgBackRestPath() == "" {
		r.notMeasured("ratio physical/pgbackrest", "pgBackRest is not installed: scripts/install-bench-tools.sh")
		return
	}
	p := testenv.StartPostgres(b)
	p.Pgbench(b, "pgbench", n)
	srv := testenv.StartVersityGWWith(b, testenv.S3Options{TLS: true})
	srv.CreateBucket(b, "pgbackrest")
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "pgpitr"
	bin, cfgFile := serverReadable(b, p, storageConfigFile(b, cfg))
	conf := pgBackRestConfig(b, p, srv)
	env := append(os.Environ(), "PGPASSWORD="+p.Password)
	ours := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}
	timed(b, "pgbackrest stanza-create", pgBackRestCmd(p, conf, "stanza-create"))
	archiveWithPgBackRest(b, p, conf)
	arch := startBackground(b, "archive-wal", env, bin, "archive-wal", "--database-url", p.URL(""),
		"--storage-config", cfgFile, "--scope", "pg", "--spool-dir", filepath.Join(b.TempDir(), "spool"))
	p.WaitReceived(b)

	// 1. The base backups.
	var base backupReport
	got := alternate(rounds(), []step{
		{"pgbackrest", func(int) measured {
			return timed(b, "pgbackrest backup", pgBackRestCmd(p, conf, "--type=full", "backup"))
		}},
		{"dbbackup", func(i int) measured {
			m := timed(b, "dbbackup backup --method physical", ours("backup", "--engine", "postgresql", "--method", "physical",
				"--database-url", p.URL(""), "--storage-config", cfgFile, "--scope", "pg", "--job-id", fmt.Sprintf("base-%d-%d", i, b.N), "--json"))
			base = parseBackupReport(b, m.stdout)
			return m
		}},
	})
	theirs, mine := got[0], got[1]
	label := lastPgBackRestLabel(b, p, conf)
	r.line("base: %.0f MiB, stored %.1f MiB by dbbackup", mib(base.RawBytes), mib(base.StoredBytes))
	r.line("pgbackrest backup (full, zst level 1, process-max=2): %s", theirs)
	r.line("dbbackup backup --method physical:                   %s", mine)
	r.ratio("physical backup/pgbackrest", mine.median(), theirs.median(), 1.0, true, "physical/pgbackrest")
	b.ReportMetric(mib(mine.maxRSS()), "physical-peak-RSS-MiB")

	// 2. The writes, the target and the archiver.
	st, err := s3.New(cfg, s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	lag := watchLag(b, walLag(p), st, "pg")
	txs := pgbenchLoad(b, p, "pgbench", pitrLoad())
	time.Sleep(1100 * time.Millisecond)
	target := time.Now().UTC()
	want := p.Checksums(b, "pgbench")
	time.Sleep(time.Until(target.Add(1100 * time.Millisecond)))
	txs2 := pgbenchLoad(b, p, "pgbench", 3*time.Second)
	lags := lag.stop(b, 2*time.Minute)
	pushed := waitArchived(b, p, 5*time.Minute)
	tree, largest, peak, lr := arch.stop(b, 2*time.Minute)
	r.line("write load: %d pgbench transactions in %s (%.0f/s), then %d after the target; %d lag samples",
		txs, pitrLoad(), float64(txs)/pitrLoad().Seconds(), txs2, len(lags))
	r.line("pgBackRest's archive-push: the segment of the last writes archived %.1fs after the switch", pushed.Seconds())
	r.line("archiver: peak RSS %.1f MiB (largest process %.1f MiB, %d samples; the peak sample: %s), cpu %.2fs", mib(tree), mib(largest), peak.samples, peak, lr.CPU.Seconds())
	r.judge("archiver peak RSS", mib(tree), mib(archiverRSSTarget), true, "%.1f MiB")
	if len(lags) == 0 {
		r.notMeasured("archiver lag", "no sample of the WAL position")
	} else {
		// The issue asks for the bound to be stated, not met: the segment
		// being written is uploaded every 10 s (--partial-interval).
		r.line("archiver lag: median %.2fs, max %.2fs (no target: the bound measured)", lags.median().Seconds(), lags.max().Seconds())
	}
	b.ReportMetric(mib(tree), "archiver-peak-RSS-MiB")
	b.ReportMetric(lags.max().Seconds(), "archiver-max-lag-s")

	for b.Loop() {
		// 3. The restores to T.
		var starts [2]series
		restore := func(k int, what string, cmd func(dir string) *exec.Cmd) func(int) measured {
			return func(i int) measured {
				dir := p.NewDataDir(b, fmt.Sprintf("restored-%d-%d-%d", k, i, b.N))
				m := timed(b, what, cmd(dir))
				q, up := startRestored(b, p, dir, pgRecoveryBound)
				checkPgRestore(b, q.Postgres, what, "pgbench", want)
				q.stop(b)
				starts[k] = append(starts[k], measured{wall: up})
				m.wall += up
				return m
			}
		}
		got = alternate(rounds(), []step{
			{"dbbackup", restore(0, "dbbackup restore --restore-to-time", func(dir string) *exec.Cmd {
				return ours("restore", "--engine", "postgresql", "--storage-config", cfgFile, "--artefact-path", base.ArtefactPath,
					"--pgdata", dir, "--restore-to-time", target.Format(time.RFC3339Nano))
			})},
			{"pgbackrest", restore(1, "pgbackrest restore --type=time", func(dir string) *exec.Cmd {
				return pgBackRestCmd(p, conf, "--pg1-path="+dir, "--set="+label, "--type=time",
					"--target="+target.Format("2006-01-02 15:04:05.999999-07"), "--target-action=promote", "restore")
			})},
		})
		mine, theirs = got[0], got[1]
		r.line("dbbackup restore --restore-to-time, start to promoted: %s", mine)
		r.line("  of which the start to promoted:                      median %.2fs", starts[0].median().Seconds())
		r.line("pgbackrest restore --type=time, start to promoted:     %s", theirs)
		r.line("  of which the start to promoted:                      median %.2fs", starts[1].median().Seconds())
		r.ratio("restore to a time/pgbackrest", mine.median(), theirs.median(), 1.0, true, "restore-to-time/pgbackrest")
	}
}

// lastPgBackRestLabel is the label of the stanza's newest backup.
func lastPgBackRestLabel(b *testing.B, p *testenv.Postgres, conf string) string {
	b.Helper()
	out, err := pgBackRestCmd(p, conf, "--output=json", "info").Output()
	if err != nil {
		b.Fatalf("pgbackrest info: %v", err)
	}
	var info []struct {
		Backup []struct {
			Label string `json:"label"`
		} `json:"backup"`
	}
	if err := json.Unmarshal(out, &info); err != nil || len(info) != 1 || len(info[0].Backup) == 0 {
		b.Fatalf("cannot read pgbackrest info %q: %v", strings.TrimSpace(string(out)), err)
	}
	return info[0].Backup[len(info[0].Backup)-1].Label
}
