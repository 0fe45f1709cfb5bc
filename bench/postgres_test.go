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

// dbbackupCmd is the dbbackup binary with the database's password in its
// environment.
func dbbackupCmd(b *testing.B, env []string, args ...string) *exec.Cmd {
	c := exec.Command(dbbackupBinary(b), args...)
	c.Env = env
	return c
}

// BenchmarkPostgres times, on each dataset, dbbackup's backup to versitygw
// against pg_dump -Fc -Z0 to /dev/null (the floor), and its restore against
// pg_restore from a local file of the same dump, in alternating rounds.
// With pgBackRest installed it also times pgBackRest's full backup (zst,
// process-max=2) and dbbackup's to one HTTPS versitygw.
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
	if pgBackRestPath() == "" {
		fmt.Println("postgres: pgBackRest is not installed (scripts/install-bench-tools.sh): ratio pgbackrest/backup NOT MEASURED")
		return
	}
	b.Run("pgbackrest", func(b *testing.B) {
		for b.Loop() {
			benchPgBackRest(b, p, env, n)
		}
	})
}

// benchPgBackup runs the backup and restore rounds on database db.
func benchPgBackup(b *testing.B, r report, p *testenv.Postgres, env []string, cfgFile, db string) {
	var dumps, backups, restores, ours, baseBackups, baseRestores series
	var last, lastBase backupReport // each build restores its own backup (the format may differ)
	baseline := baselineBinary()
	for i := range rounds() {
		dumps = append(dumps, timed(b, "pg_dump", toDevNull(b, pgCmd(p, "pg_dump", "-Fc", "-Z0", db))))
		m := timed(b, "dbbackup backup", dbbackupCmd(b, env, "backup", "--engine", "postgresql",
			"--database-url", p.URL(db), "--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("%s-%d-%d", db, i, b.N)))
		last = parseBackupReport(b, m.stdout)
		backups = append(backups, m)
		if baseline != "" {
			c := timed(b, "baseline backup", baselineCmd(env, "backup", "--engine", "postgresql",
				"--database-url", p.URL(db), "--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("%s-base-%d-%d", db, i, b.N)))
			lastBase = parseBackupReport(b, c.stdout)
			baseBackups = append(baseBackups, c)
		}
	}
	r.line("dump %.0f MiB, stored %.0f MiB (%.1fx smaller)", mib(last.RawBytes), mib(last.StoredBytes), float64(last.RawBytes)/float64(last.StoredBytes))
	r.line("pg_dump -Fc -Z0 > /dev/null:  %s", dumps)
	r.line("dbbackup backup:              %s, peak RSS %.1f MiB", backups, mib(backups.maxRSS()))
	r.ratio("backup/pg_dump", backups.median(), dumps.median(), 1.10, true, "backup/pg_dump")
	if baseline != "" {
		r.line("baseline build backup:        %s, peak RSS %.1f MiB", baseBackups, mib(baseBackups.maxRSS()))
		r.line("backup/baseline build: %.2fx", backups.median().Seconds()/baseBackups.median().Seconds())
	}
	b.ReportMetric(mib(backups.maxRSS()), "backup-peak-RSS-MiB")

	file := filepath.Join(b.TempDir(), db+".dump")
	timed(b, "pg_dump to a file", pgCmd(p, "pg_dump", "-Fc", "-Z0", "-f", file, db))
	for range rounds() {
		fresh(b, p, "restore_base")
		restores = append(restores, timed(b, "pg_restore", pgCmd(p, "pg_restore", "--dbname=restore_base",
			"--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner", file)))
		fresh(b, p, "restore_ours")
		ours = append(ours, timed(b, "dbbackup restore", dbbackupCmd(b, env, "restore", "--engine", "postgresql",
			"--database-url", p.URL("restore_ours"), "--storage-config", cfgFile, "--artefact-path", last.ArtefactPath)))
		if baseline != "" {
			fresh(b, p, "restore_prev")
			baseRestores = append(baseRestores, timed(b, "baseline restore", baselineCmd(env, "restore", "--engine", "postgresql",
				"--database-url", p.URL("restore_prev"), "--storage-config", cfgFile, "--artefact-path", lastBase.ArtefactPath)))
		}
	}
	want := strings.TrimSpace(p.SQL(b, db, countSQL))
	if got := strings.TrimSpace(p.SQL(b, "restore_ours", countSQL)); got != want {
		b.Fatalf("restored row counts %q, want %q", got, want)
	}
	_ = os.Remove(file)
	r.line("pg_restore (local file):      %s", restores)
	r.line("dbbackup restore:             %s, peak RSS %.1f MiB", ours, mib(ours.maxRSS()))
	r.ratio("restore/pg_restore", ours.median(), restores.median(), 1.10, true, "restore/pg_restore")
	if baseline != "" {
		r.line("baseline build restore:       %s, peak RSS %.1f MiB", baseRestores, mib(baseRestores.maxRSS()))
		r.line("restore/baseline build: %.2fx", ours.median().Seconds()/baseRestores.median().Seconds())
	}
	for _, db := range []string{"restore_base", "restore_ours", "restore_prev"} {
		p.SQL(b, "postgres", fmt.Sprintf("DROP DATABASE IF EXISTS %q", db))
	}
}

// countSQL counts the rows of every user table, in a fixed order.
const countSQL = `SELECT string_agg(c.relname || '=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text, ',' ORDER BY c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`

// fresh (re)creates an empty database db.
func fresh(b *testing.B, p *testenv.Postgres, db string) {
	b.Helper()
	p.SQL(b, "postgres", fmt.Sprintf("DROP DATABASE IF EXISTS %q", db))
	p.SQL(b, "postgres", fmt.Sprintf("CREATE DATABASE %q", db))
}
