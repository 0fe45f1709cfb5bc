package bench

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// pgBackRestPath returns pgbackrest's path, or "" when it is not installed.
func pgBackRestPath() string {
	p, _ := exec.LookPath("pgbackrest")
	return p
}

// pgBackRestDatasets are what the cluster of the pgBackRest comparison
// holds: both datasets, each in a database of its own name, loaded into a
// server of its own so that nothing another benchmark left is backed up.
var pgBackRestDatasets = pgDatasets

// benchPgBackRest starts a PostgreSQL server of its own, loads
// pgBackRestDatasets into it, and times pgBackRest's full backup of the
// cluster (compress-type=zst at compress-level=1, our compressor's level;
// process-max=2, start-fast, no WAL archive check) to an HTTPS versitygw
// against dbbackup's backup of every database (no dbname in
// --database-url: the whole cluster too) to the same server, in
// alternating rounds. Both peak RSS figures are measured the same way.
func benchPgBackRest(b *testing.B, n int) {
	p := testenv.StartPostgres(b)
	var names []string
	for _, ds := range pgBackRestDatasets {
		ds.load(b, p, ds.name, n)
		names = append(names, ds.name)
	}
	if got, want := strings.Join(userDatabases(b, p), " + "), strings.Join(names, " + "); got != want {
		b.Fatalf("the pgBackRest cluster holds %s, want %s", got, want)
	}
	env := append(os.Environ(), "PGPASSWORD="+p.Password)
	srv := testenv.StartVersityGWWith(b, testenv.S3Options{TLS: true})
	srv.CreateBucket(b, "pgbackrest")
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfg.Path = "pg"
	cfgFile := storageConfigFile(b, cfg)
	conf := pgBackRestConfig(b, p, srv)
	r := report{b: b, title: fmt.Sprintf("postgres/cluster scale %d (%s), HTTPS versitygw", n, strings.Join(names, " + "))}
	pgbr := func(args ...string) *exec.Cmd { return pgBackRestCmd(p, conf, args...) }
	timed(b, "pgbackrest stanza-create", pgbr("stanza-create"))
	got := alternate(rounds(), []step{
		{"pgbackrest", func(int) measured { return timed(b, "pgbackrest backup", pgbr("--type=full", "backup")) }},
		{"dbbackup", func(i int) measured {
			return timed(b, "dbbackup backup (cluster)", dbbackupCmd(b, env, "backup", "--engine", "postgresql",
				"--database-url", strings.TrimSuffix(p.URL(""), "/"), "--storage-config", cfgFile, "--job-id", fmt.Sprintf("cluster-%d-%d", i, b.N)))
		}},
	})
	theirs, ours := got[0], got[1]
	r.line("pgbackrest backup (full, zst level 1, process-max=2): %s", theirs)
	r.line("dbbackup backup (all databases):                     %s", ours)
	r.ratio("pgbackrest/backup", theirs.median(), ours.median(), 2.0, false, "pgbackrest/backup")
	r.line("peak RSS: pgBackRest %.1f MiB, dbbackup %.1f MiB (both the sum of the process tree)", mib(theirs.maxRSS()), mib(ours.maxRSS()))
	b.ReportMetric(mib(theirs.maxRSS()), "pgbackrest-peak-RSS-MiB")
	b.ReportMetric(mib(ours.maxRSS()), "cluster-peak-RSS-MiB")
}

// userDatabases lists p's databases but postgres, sorted.
func userDatabases(b testing.TB, p *testenv.Postgres) []string {
	var out []string
	for _, db := range p.Databases(b) {
		if db != "postgres" {
			out = append(out, db)
		}
	}
	return out
}

// pgUser is the OS user that owns the server's files: postgres when this
// runs as root, else the current user.
func pgUser(p *testenv.Postgres) string {
	if os.Geteuid() == 0 {
		return "postgres"
	}
	u, err := user.Current()
	if err != nil {
		return os.Getenv("USER")
	}
	return u.Username
}

// pgBackRestCmd is pgbackrest with the configuration conf (see
// pgBackRestConfig) on stanza "bench", run as the server's user from its
// folder.
func pgBackRestCmd(p *testenv.Postgres, conf string, args ...string) *exec.Cmd {
	c := asServerUser(p, pgBackRestPath(), append([]string{"--config=" + conf, "--stanza=bench"}, args...)...)
	c.Env = append(os.Environ(), "PGPASSWORD="+p.Password)
	return c
}

// asServerUser is program with args run as the user that owns p's files
// (through runuser when this runs as root), from p's folder.
func asServerUser(p *testenv.Postgres, program string, args ...string) *exec.Cmd {
	c := exec.Command(program, args...)
	if os.Geteuid() == 0 {
		c = exec.Command("runuser", append([]string{"-u", pgUser(p), "--", program}, args...)...)
	}
	c.Dir = p.Dir
	return c
}

// pgBackRestConfig writes a pgbackrest.conf for stanza "bench": the
// server's data folder and socket, and an S3 repository on srv.
func pgBackRestConfig(b *testing.B, p *testenv.Postgres, srv *testenv.S3Server) string {
	b.Helper()
	ep, err := url.Parse(srv.Endpoint)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(p.Dir, "pgbackrest")
	for _, d := range []string{dir, filepath.Join(dir, "log"), filepath.Join(dir, "lock"), filepath.Join(dir, "spool")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`[global]
repo1-type=s3
repo1-path=/repo
repo1-s3-bucket=pgbackrest
repo1-s3-endpoint=%s
repo1-storage-port=%s
repo1-storage-verify-tls=n
repo1-s3-region=%s
repo1-s3-key=%s
repo1-s3-key-secret=%s
repo1-s3-uri-style=path
repo1-retention-full=1000
compress-type=zst
compress-level=1
process-max=2
start-fast=y
archive-check=n
log-path=%s
lock-path=%s
spool-path=%s
log-level-console=warn
log-level-file=off

[bench]
pg1-path=%s
pg1-port=%d
pg1-socket-path=%s
pg1-user=%s
`, ep.Hostname(), ep.Port(), srv.Region, srv.AccessKey, srv.SecretKey,
		filepath.Join(dir, "log"), filepath.Join(dir, "lock"), filepath.Join(dir, "spool"),
		filepath.Join(p.Dir, "data"), p.Port, p.Dir, p.User)
	path := filepath.Join(dir, "pgbackrest.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	if os.Geteuid() == 0 {
		out, err := exec.Command("chown", "-R", pgUser(p), dir).CombinedOutput()
		if err != nil {
			b.Fatalf("cannot give %s to %s: %v %s", dir, pgUser(p), err, out)
		}
	}
	return path
}
