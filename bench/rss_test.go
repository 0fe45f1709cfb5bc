package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// BenchmarkBackupPeakRSS backs up random-text databases of 1x and 4x the
// same size and compares the dbbackup process's peak RSS: memory must not
// grow with the data. The 1x size is half DBBACKUP_BENCH_SCALE (at least
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
		rss := map[string]series{}
		for i := range rounds() {
			for _, db := range []string{"x1", "x4"} {
				rss[db] = append(rss[db], timed(b, "dbbackup backup", dbbackupCmd(b, env, "backup", "--engine", "postgresql",
					"--database-url", p.URL(db), "--storage-config", cfgFile, "--job-id", fmt.Sprintf("%s-%d-%d", db, i, b.N))))
			}
		}
		x1, x4 := mib(rss["x1"].maxRSS()), mib(rss["x4"].maxRSS())
		r.line("peak RSS 1x %.1f MiB, 4x %.1f MiB (target < 64 MiB; pgBackRest 33-40 MiB)", x1, x4)
		x := x4 / x1
		verdict := "MET"
		if x > 1.10 || x4 >= 64 {
			verdict = "MISSED"
		}
		r.line("ratio peak RSS 4x/1x: %.2fx (target <= 1.10, both < 64 MiB) %s", x, verdict)
		b.ReportMetric(x1, "RSS-1x-MiB")
		b.ReportMetric(x4, "RSS-4x-MiB")
		b.ReportMetric(x, "RSS-4x/1x")
	}
}
