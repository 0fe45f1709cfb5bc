package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// BenchmarkBackupPeakRSS backs up random-text databases of 1x and 4x the
// same size, in alternating rounds, and compares the peak RSS of the
// backup's process tree (dbbackup and pg_dump): memory must not grow with
// the data, and stays under rssTarget. pgBackRest's peak is measured the
// same way in BenchmarkPostgres/pgbackrest. The 1x size is half DBBACKUP_BENCH_SCALE (at least
// 3 units, some 45 MB, for the upload to reach its steady state).
func BenchmarkBackupPeakRSS(b *testing.B) {
	p := testenv.StartPostgres(b)
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "rss"
	cfgFile := storageConfigFile(b, cfg)
	env := append(os.Environ(), "PGPASSWORD="+p.Password)
	base := max(3, scale()/2)
	loadPgText(b, p, "x1", base)
	loadPgText(b, p, "x4", 4*base)
	r := report{b: b, title: fmt.Sprintf("postgres/text peak RSS, scale %d vs %d", base, 4*base)}
	for b.Loop() {
		var steps []step
		for _, db := range []string{"x1", "x4"} {
			steps = append(steps, step{db, func(i int) measured {
				return timed(b, "dbbackup backup", dbbackupCmd(b, env, "backup", "--engine", "postgresql",
					"--database-url", p.URL(db), "--storage-config", cfgFile, "--job-id", fmt.Sprintf("%s-%d-%d", db, i, b.N)))
			}})
		}
		got := alternate(rounds(), steps)
		x1, x4 := mib(got[0].maxRSS()), mib(got[1].maxRSS())
		r.line("1x: %s", got[0])
		r.line("4x: %s", got[1])
		r.judge("peak RSS 1x", x1, mib(rssTarget), true, "%.1f MiB")
		r.judge("peak RSS 4x", x4, mib(rssTarget), true, "%.1f MiB")
		x := x4 / x1
		r.judge("ratio peak RSS 4x/1x", x, 1.10, true, "%.2fx")
		b.ReportMetric(x1, "RSS-1x-MiB")
		b.ReportMetric(x4, "RSS-4x-MiB")
		b.ReportMetric(x, "RSS-4x/1x")
	}
}
