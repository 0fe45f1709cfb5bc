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

// BenchmarkMariaDB times, on the random-text dataset (database text),
// dbbackup's backup to versitygw against mariadb-dump --single-transaction
// to /dev/null and against the floor pipeline (mariadb-dump
// --single-transaction | zstd -1 -T1 | a streamed multipart upload to the
// same server), and its restore against the mariadb client reading a local
// file of the same dump, in alternating rounds; every restore is checked
// by content checksums. The table is all the database holds, so the
// restore loads into a staging database while it downloads and checks,
// then swaps the table in (a database with views or the like is checked
// whole first: artefact's spool tests and benchmarks cover that path).
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
	dumpArgs := []string{"--defaults-extra-file=" + m.OptionFile(), "--single-transaction", "text"}
	baseline := baselineBinary()
	for b.Loop() {
		var last, lastBase backupReport // each build restores its own backup (the format may differ)
		backup := func(bin func(...string) *exec.Cmd, job string, into *backupReport) func(int) measured {
			return func(i int) measured {
				c := timed(b, job, bin("backup", "--engine", "mysql", "--database-url", m.URL("text"),
					"--storage-config", cfgFile, "--json", "--job-id", fmt.Sprintf("text-%s-%d-%d", job, i, b.N)))
				*into = parseBackupReport(b, c.stdout)
				return c
			}
		}
		steps := []step{
			{"mariadb-dump", func(int) measured {
				return timed(b, "mariadb-dump", toDevNull(b, exec.Command(dumpTool, dumpArgs...)))
			}},
			{"floor", func(i int) measured {
				key := fmt.Sprintf("floor/text-%d-%d.sql.zst", i, b.N)
				c := timed(b, "floor pipeline", floorCmd(b, env, cfgFile, key, append([]string{dumpTool}, dumpArgs...)...))
				checkFloorUpload(b, cfgFile, key, c)
				return c
			}},
			{"dbbackup", backup(func(a ...string) *exec.Cmd { return dbbackupCmd(b, env, a...) }, "ours", &last)},
		}
		if baseline != "" {
			steps = append(steps, step{"baseline", backup(func(a ...string) *exec.Cmd { return baselineCmd(env, a...) }, "base", &lastBase)})
		}
		got := alternate(rounds(), steps)
		dumps, floor, backups := got[0], got[1], got[2]
		r.line("dump %.0f MiB, stored %.0f MiB (%.1fx smaller)", mib(last.RawBytes), mib(last.StoredBytes), float64(last.RawBytes)/float64(last.StoredBytes))
		r.line("mariadb-dump --single-transaction > /dev/null:      %s", dumps)
		r.line("mariadb-dump ... | zstd -1 -T1 | upload:            %s", floor)
		r.line("dbbackup backup:                                    %s", backups)
		r.info("backup/mariadb-dump", backups.median(), dumps.median())
		r.ratio("backup/floor", backups.median(), floor.median(), 1.10, true, "backup/floor")
		r.judge("backup peak RSS", mib(backups.maxRSS()), mib(rssTarget), true, "%.1f MiB")
		if baseline != "" {
			r.line("baseline build backup:                              %s", got[3])
			r.info("backup/baseline build", backups.median(), got[3].median())
		}
		b.ReportMetric(mib(backups.maxRSS()), "backup-peak-RSS-MiB")

		want := mariaSums(b, m, "text")
		file := filepath.Join(b.TempDir(), "text.sql")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		dump := exec.Command(dumpTool, dumpArgs...)
		dump.Stdout = f
		timed(b, "mariadb-dump to a file", dump)
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		restore := func(target, what string, cmd func() (*exec.Cmd, func())) func(int) measured {
			return func(int) measured {
				m.SQL(b, "", fmt.Sprintf("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;", target, target))
				c, done := cmd()
				got := timed(b, what, c)
				done()
				if diffs := testenv.DiffSums(want, mariaSums(b, m, target)); len(diffs) > 0 {
					b.Fatalf("%s restored different content into %s:\n%s", what, target, strings.Join(diffs, "\n"))
				}
				return got
			}
		}
		steps = []step{
			{"mariadb", restore("restore_base", "mariadb < file", func() (*exec.Cmd, func()) {
				load := exec.Command(client, "--defaults-extra-file="+m.OptionFile(), "--database=restore_base")
				in, err := os.Open(file)
				if err != nil {
					b.Fatal(err)
				}
				load.Stdin = in
				return load, func() { in.Close() }
			})},
			{"dbbackup", restore("restore_ours", "dbbackup restore", func() (*exec.Cmd, func()) {
				return dbbackupCmd(b, env, "restore", "--engine", "mysql", "--database-url", m.URL("restore_ours"),
					"--storage-config", cfgFile, "--artefact-path", last.ArtefactPath), func() {}
			})},
		}
		if baseline != "" {
			steps = append(steps, step{"baseline", restore("restore_prev", "baseline build restore", func() (*exec.Cmd, func()) {
				return baselineCmd(env, "restore", "--engine", "mysql", "--database-url", m.URL("restore_prev"),
					"--storage-config", cfgFile, "--artefact-path", lastBase.ArtefactPath), func() {}
			})})
		}
		got = alternate(rounds(), steps)
		if err := os.Remove(file); err != nil {
			b.Fatal(err)
		}
		loads, ours := got[0], got[1]
		r.line("mariadb < local file:                               %s", loads)
		r.line("dbbackup restore (staged, checked as loaded):       %s", ours)
		r.ratio("restore/mariadb-client", ours.median(), loads.median(), 1.10, true, "restore/mariadb-client")
		if baseline != "" {
			r.line("baseline build restore:                             %s", got[2])
			r.info("restore/baseline build", ours.median(), got[2].median())
		}
		m.SQL(b, "", "DROP DATABASE IF EXISTS restore_base; DROP DATABASE IF EXISTS restore_ours; DROP DATABASE IF EXISTS restore_prev;")
	}
}

// mariaSums is m.Checksums of db with the database's name taken out of
// the keys, so that a restored copy compares with its source.
func mariaSums(b testing.TB, m *testenv.MariaDB, db string) map[string]testenv.TableSum {
	b.Helper()
	out := map[string]testenv.TableSum{}
	for k, v := range m.Checksums(b, db) {
		name, auto := strings.CutPrefix(k, "auto_increment ")
		rest, ok := strings.CutPrefix(name, db+".")
		if !ok {
			b.Fatalf("checksum key %q is not in database %s", k, db)
		}
		if auto {
			rest = "auto_increment " + rest
		}
		out[rest] = v
	}
	if len(out) == 0 {
		b.Fatalf("database %s has no tables to compare", db)
	}
	return out
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
