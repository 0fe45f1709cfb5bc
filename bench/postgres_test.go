package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// pgDataset is one database to back up.
type pgDataset struct {
	name string
	load func(b *testing.B, p *testenv.Postgres, db string, scale int)
}

var pgDatasets = []pgDataset{
	{"pgbench", func(b *testing.B, p *testenv.Postgres, db string, scale int) { p.Pgbench(b, db, scale) }},
	{"text", loadPgText},
}

// textRows is the number of random-text rows per unit of scale: about the
// dump size of one pgbench unit.
const textRows = 110000

// loadPgText fills db with a table of random hex text, which zstd shrinks
// about 2x, like real data (pgbench's shrinks 100x).
func loadPgText(b *testing.B, p *testenv.Postgres, db string, scale int) {
	b.Helper()
	p.SQL(b, "postgres", fmt.Sprintf("CREATE DATABASE %q", db))
	p.SQL(b, db, fmt.Sprintf(`CREATE TABLE t (id bigint PRIMARY KEY, txt text NOT NULL);
INSERT INTO t SELECT i, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
  FROM generate_series(1, %d) i;
VACUUM FREEZE ANALYZE t;`, scale*textRows))
}

// pgCmd is a PostgreSQL client tool reaching p.
func pgCmd(p *testenv.Postgres, name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(p.BinDir, name), args...)
	c.Env = p.Env()
	return c
}

// rssTarget is the bound on a backup's peak RSS (the sum of its
// process tree: dbbackup and the dump tool).
const rssTarget = 40 << 20

// BenchmarkPostgres times, on each dataset in a database of its own name,
// dbbackup's backup to versitygw against pg_dump -Fc -Z0 to /dev/null and
// against the floor pipeline (pg_dump -Fc -Z0 | zstd -1 -T1 | a streamed
// multipart upload to the same server), and its restore against
// pg_restore from a local file of the same dump, in alternating rounds;
// every restore, ours and the baselines', is checked by content checksums.
// With pgBackRest installed (make bench installs it) it also times
// pgBackRest's full backup of a cluster of its own against dbbackup's.
func BenchmarkPostgres(b *testing.B) {
	p := testenv.StartPostgres(b)
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "pg"
	cfgFile := storageConfigFile(b, cfg)
	env := append(os.Environ(), "PGPASSWORD="+p.Password)
	n := scale()
	for _, ds := range pgDatasets {
		b.Run(ds.name, func(b *testing.B) {
			ds.load(b, p, ds.name, n)
			r := report{b: b, title: fmt.Sprintf("postgres/%s scale %d", ds.name, n)}
			for b.Loop() {
				benchPgBackup(b, r, p, env, cfgFile, ds.name)
			}
		})
	}
	b.Run("pgbackrest", func(b *testing.B) {
		if pgBackRestPath() == "" {
			report{b: b, title: "postgres/cluster"}.notMeasured("ratio pgbackrest/backup",
				"pgBackRest is not installed: scripts/install-bench-tools.sh")
			return
		}
		for b.Loop() {
			benchPgBackRest(b, n)
		}
	})
}

// benchPgBackup runs the backup and restore rounds on database db.
func benchPgBackup(b *testing.B, r report, p *testenv.Postgres, env []string, cfgFile, db string) {
	baseline := baselineBinary()
	var last, lastBase backupReport // each build restores its own backup (the format may differ)
	backup := func(bin func(...string) *exec.Cmd, job string, into *backupReport) func(int) measured {
		return func(i int) measured {
			m := timed(b, job, bin("backup", "--engine", "postgresql", "--database-url", p.URL(db),
				"--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("%s-%s-%d-%d", db, job, i, b.N)))
			*into = parseBackupReport(b, m.stdout)
			return m
		}
	}
	steps := []step{
		{"pg_dump", func(int) measured {
			return timed(b, "pg_dump", toDevNull(b, pgCmd(p, "pg_dump", "-Fc", "-Z0", db)))
		}},
		{"floor", func(i int) measured {
			key := fmt.Sprintf("floor/%s-%d-%d.dump.zst", db, i, b.N)
			m := timed(b, "floor pipeline", floorCmd(b, p.Env(), cfgFile, key, filepath.Join(p.BinDir, "pg_dump"), "-Fc", "-Z0", db))
			checkFloorUpload(b, cfgFile, key, m)
			return m
		}},
		{"dbbackup", backup(func(a ...string) *exec.Cmd { return dbbackupCmd(b, env, a...) }, "ours", &last)},
	}
	if baseline != "" {
		steps = append(steps, step{"baseline", backup(func(a ...string) *exec.Cmd { return baselineCmd(env, a...) }, "base", &lastBase)})
	}
	got := alternate(rounds(), steps)
	dumps, floor, backups := got[0], got[1], got[2]
	r.line("dump %.0f MiB, stored %.0f MiB (%.1fx smaller)", mib(last.RawBytes), mib(last.StoredBytes), float64(last.RawBytes)/float64(last.StoredBytes))
	r.line("pg_dump -Fc -Z0 > /dev/null:                 %s", dumps)
	r.line("pg_dump -Fc -Z0 | zstd -1 -T1 | upload:      %s", floor)
	r.line("dbbackup backup:                             %s", backups)
	r.info("backup/pg_dump", backups.median(), dumps.median())
	r.ratio("backup/floor", backups.median(), floor.median(), 1.10, true, "backup/floor")
	r.judge("backup peak RSS", mib(backups.maxRSS()), mib(rssTarget), true, "%.1f MiB")
	if baseline != "" {
		r.line("baseline build backup:                       %s", got[3])
		r.info("backup/baseline build", backups.median(), got[3].median())
	}
	b.ReportMetric(mib(backups.maxRSS()), "backup-peak-RSS-MiB")

	want := p.Checksums(b, db)
	file := filepath.Join(b.TempDir(), db+".dump")
	timed(b, "pg_dump to a file", pgCmd(p, "pg_dump", "-Fc", "-Z0", "-f", file, db))
	restore := func(target, what string, cmd func() *exec.Cmd) func(int) measured {
		return func(int) measured {
			fresh(b, p, target)
			m := timed(b, what, cmd())
			checkPgRestore(b, p, what, target, want)
			return m
		}
	}
	steps = []step{
		{"pg_restore", restore("restore_base", "pg_restore", func() *exec.Cmd {
			return pgCmd(p, "pg_restore", "--dbname=restore_base", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner", file)
		})},
		{"dbbackup", restore("restore_ours", "dbbackup restore", func() *exec.Cmd {
			return dbbackupCmd(b, env, "restore", "--engine", "postgresql", "--database-url", p.URL("restore_ours"), "--storage-config", cfgFile, "--artefact-path", last.ArtefactPath)
		})},
	}
	if baseline != "" {
		steps = append(steps, step{"baseline", restore("restore_prev", "baseline build restore", func() *exec.Cmd {
			return baselineCmd(env, "restore", "--engine", "postgresql", "--database-url", p.URL("restore_prev"), "--storage-config", cfgFile, "--artefact-path", lastBase.ArtefactPath)
		})})
	}
	got = alternate(rounds(), steps)
	if err := os.Remove(file); err != nil {
		b.Fatal(err)
	}
	restores, ours := got[0], got[1]
	r.line("pg_restore (local file):                     %s", restores)
	r.line("dbbackup restore:                            %s", ours)
	r.ratio("restore/pg_restore", ours.median(), restores.median(), 1.10, true, "restore/pg_restore")
	if baseline != "" {
		r.line("baseline build restore:                      %s", got[2])
		r.info("restore/baseline build", ours.median(), got[2].median())
	}
	for _, db := range []string{"restore_base", "restore_ours", "restore_prev"} {
		p.SQL(b, "postgres", fmt.Sprintf("DROP DATABASE IF EXISTS %q", db))
	}
}

// checkPgRestore fails b unless database db holds the content want
// (every table's rows and md5, every sequence's value).
func checkPgRestore(b testing.TB, p *testenv.Postgres, what, db string, want map[string]testenv.TableSum) {
	b.Helper()
	if len(want) == 0 {
		b.Fatalf("%s: the source database has no tables to compare", what)
	}
	if diffs := testenv.DiffSums(want, p.Checksums(b, db)); len(diffs) > 0 {
		b.Fatalf("%s restored different content into %s:\n%s", what, db, strings.Join(diffs, "\n"))
	}
}

// fresh (re)creates an empty database db.
func fresh(b testing.TB, p *testenv.Postgres, db string) {
	b.Helper()
	p.SQL(b, "postgres", fmt.Sprintf("DROP DATABASE IF EXISTS %q", db))
	p.SQL(b, "postgres", fmt.Sprintf("CREATE DATABASE %q", db))
}
