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

// BenchmarkMariaDB times, on the random-text dataset, dbbackup's backup to
// versitygw against mariadb-dump --single-transaction to /dev/null (the
// floor), and its restore against the mariadb client reading a local file
// of the same dump. The table is all the database holds, so the restore
// loads into a staging database while it downloads and checks, then swaps
// the table in (a database with views or the like is checked whole first:
// artefact's spool tests and benchmarks cover that path).
func BenchmarkMariaDB(b *testing.B) {
	m := testenv.StartMariaDB(b)
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "mysql"
	cfgFile := storageConfigFile(b, cfg)
	env := append(os.Environ(), "MYSQL_PWD="+m.Password)
	n := scale()
	m.SQL(b, "", fmt.Sprintf(`CREATE DATABASE text;
USE text;
CREATE TABLE t (id BIGINT PRIMARY KEY, txt TEXT NOT NULL) ENGINE=InnoDB;
INSERT INTO t SELECT seq, CONCAT(MD5(RAND()), MD5(RAND()), MD5(RAND()), MD5(RAND())) FROM seq_1_to_%d;`, n*textRows))
	r := report{b: b, title: fmt.Sprintf("mariadb/text scale %d", n)}
	dumpTool, client := mariaTool("mariadb-dump", "mysqldump"), mariaTool("mariadb", "mysql")
	baseline := baselineBinary()
	for b.Loop() {
		var dumps, backups, loads, ours, baseBackups, baseRestores series
		var last, lastBase backupReport // each build restores its own backup (the format may differ)
		for i := range rounds() {
			dumps = append(dumps, timed(b, "mariadb-dump", toDevNull(b, exec.Command(dumpTool,
				"--defaults-extra-file="+m.OptionFile(), "--single-transaction", "text"))))
			c := timed(b, "dbbackup backup", dbbackupCmd(b, env, "backup", "--engine", "mysql",
				"--database-url", m.URL("text"), "--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("text-%d-%d", i, b.N)))
			last = parseBackupReport(b, c.stdout)
			backups = append(backups, c)
			if baseline != "" {
				c := timed(b, "baseline backup", baselineCmd(env, "backup", "--engine", "mysql",
					"--database-url", m.URL("text"), "--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("base-%d-%d", i, b.N)))
				lastBase = parseBackupReport(b, c.stdout)
				baseBackups = append(baseBackups, c)
			}
		}
		r.line("dump %.0f MiB, stored %.0f MiB (%.1fx smaller)", mib(last.RawBytes), mib(last.StoredBytes), float64(last.RawBytes)/float64(last.StoredBytes))
		r.line("mariadb-dump --single-transaction > /dev/null: %s", dumps)
		r.line("dbbackup backup:                               %s, peak RSS %.1f MiB", backups, mib(backups.maxRSS()))
		r.ratio("backup/mariadb-dump", backups.median(), dumps.median(), 1.10, true, "backup/mariadb-dump")
		if baseline != "" {
			r.line("baseline build backup:                         %s, peak RSS %.1f MiB", baseBackups, mib(baseBackups.maxRSS()))
			r.line("backup/baseline build: %.2fx", backups.median().Seconds()/baseBackups.median().Seconds())
		}
		b.ReportMetric(mib(backups.maxRSS()), "backup-peak-RSS-MiB")

		file := filepath.Join(b.TempDir(), "text.sql")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		dump := exec.Command(dumpTool, "--defaults-extra-file="+m.OptionFile(), "--single-transaction", "text")
		dump.Stdout = f
		timed(b, "mariadb-dump to a file", dump)
		f.Close()
		for range rounds() {
			m.SQL(b, "", "DROP DATABASE IF EXISTS restore_base; CREATE DATABASE restore_base;")
			load := exec.Command(client, "--defaults-extra-file="+m.OptionFile(), "--database=restore_base")
			in, err := os.Open(file)
			if err != nil {
				b.Fatal(err)
			}
			load.Stdin = in
			loads = append(loads, timed(b, "mariadb < file", load))
			in.Close()
			m.SQL(b, "", "DROP DATABASE IF EXISTS restore_ours; CREATE DATABASE restore_ours;")
			ours = append(ours, timed(b, "dbbackup restore", dbbackupCmd(b, env, "restore", "--engine", "mysql",
				"--database-url", m.URL("restore_ours"), "--storage-config", cfgFile, "--artefact-path", last.ArtefactPath)))
			if baseline != "" {
				m.SQL(b, "", "DROP DATABASE IF EXISTS restore_prev; CREATE DATABASE restore_prev;")
				baseRestores = append(baseRestores, timed(b, "baseline restore", baselineCmd(env, "restore", "--engine", "mysql",
					"--database-url", m.URL("restore_prev"), "--storage-config", cfgFile, "--artefact-path", lastBase.ArtefactPath)))
			}
		}
		want := strings.TrimSpace(m.SQL(b, "text", "SELECT COUNT(*) FROM t"))
		if got := strings.TrimSpace(m.SQL(b, "restore_ours", "SELECT COUNT(*) FROM t")); got != want {
			b.Fatalf("restored %s rows, want %s", got, want)
		}
		_ = os.Remove(file)
		r.line("mariadb < local file:                          %s", loads)
		r.line("dbbackup restore (staged, checked as loaded):  %s, peak RSS %.1f MiB", ours, mib(ours.maxRSS()))
		r.ratio("restore/mariadb-client", ours.median(), loads.median(), 1.10, true, "restore/mariadb-client")
		if baseline != "" {
			r.line("baseline build restore:                        %s, peak RSS %.1f MiB", baseRestores, mib(baseRestores.maxRSS()))
			r.line("restore/baseline build: %.2fx", ours.median().Seconds()/baseRestores.median().Seconds())
		}
		m.SQL(b, "", "DROP DATABASE IF EXISTS restore_base; DROP DATABASE IF EXISTS restore_ours; DROP DATABASE IF EXISTS restore_prev;")
	}
}

// mariaTool finds the first of names on PATH (MariaDB's names first).
func mariaTool(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return names[0]
}
