package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartPostgres(t *testing.T) {
	p := StartPostgres(t)
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT current_user")); got != "postgres" {
		t.Errorf("current_user = %q, want postgres", got)
	}
	p.SQL(t, "postgres", `CREATE TABLE a (id int, s text); INSERT INTO a VALUES (1, 'ü'), (2, NULL);
		CREATE SEQUENCE s1; SELECT nextval('s1');`)
	sums := p.Checksums(t, "postgres")
	if sums["public.a"].Rows != 2 || sums["public.a"].Sum == "" || sums["sequence public.s1"].Sum != "1" {
		t.Errorf("got sums %v", sums)
	}
	p.SQL(t, "postgres", "UPDATE a SET s = 'x' WHERE id = 2")
	if d := DiffSums(sums, p.Checksums(t, "postgres")); len(d) != 1 || !strings.HasPrefix(d[0], "public.a:") {
		t.Errorf("DiffSums after an update = %q, want one difference in public.a", d)
	}
	// Password authentication is on: a wrong password fails.
	wrong := *p
	wrong.Password = "wrong"
	if _, err := wrong.Exec("postgres", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("wrong password: got %v, want password authentication failed", err)
	}
}

func TestDiffSums(t *testing.T) {
	want := map[string]TableSum{"a": {1, "x"}, "b": {2, "y"}}
	got := map[string]TableSum{"a": {1, "x"}, "c": {3, "z"}}
	d := DiffSums(want, got)
	wantD := []string{"b: missing (want 2 rows)", "c: unexpected (3 rows)"}
	if strings.Join(d, ";") != strings.Join(wantD, ";") {
		t.Errorf("got %q, want %q", d, wantD)
	}
	if d := DiffSums(want, want); len(d) != 0 {
		t.Errorf("identical sums differ: %q", d)
	}
}

// TestStartPostgresAt starts the PostgreSQL 14 server of
// scripts/install-postgres-npm.sh from a copy in a folder only its owner may
// enter, as a clone under /root is: run as root, the server's user cannot
// reach it there, so StartPostgresAt must copy it where it can.
func TestStartPostgresAt(t *testing.T) {
	src := filepath.Dir(Postgres14BinDir())
	if _, err := os.Stat(filepath.Join(src, "bin", "postgres")); err != nil {
		Unavailable(t, "PostgreSQL 14 not installed in %s; run scripts/install-postgres-npm.sh 14", src)
	}
	hidden := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(hidden, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", src, filepath.Join(hidden, "pg14")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	p := StartPostgresAt(t, filepath.Join(hidden, "pg14", "bin"))
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SHOW server_version_num")); !strings.HasPrefix(got, "14") || len(got) != 6 {
		t.Errorf("server_version_num = %q, want 14xxxx", got)
	}
	if p.BinDir != PostgresClientBinDir(14) || p.BinDir == "" {
		t.Errorf("client tools in %q, want %q", p.BinDir, PostgresClientBinDir(14))
	}
	if os.Geteuid() == 0 && !strings.HasPrefix(p.ServerBinDir, p.Dir) {
		t.Errorf("running as root, the server ran from %s, which its user cannot reach", p.ServerBinDir)
	}
	// The client tools of the newer version dump the older server.
	p.SQL(t, "postgres", "CREATE TABLE fourteen (i int); INSERT INTO fourteen VALUES (14)")
	if d := p.Dump(t, "postgres"); !strings.Contains(d, "CREATE TABLE public.fourteen") || !strings.Contains(d, "\n14\n") {
		t.Errorf("the dump of the 14 server lacks its table:\n%s", d)
	}
}

// stopT records why a starter stopped (Fatalf under CI, Skipf elsewhere).
type stopT struct {
	*testing.T
	stopped string
}

func (s *stopT) Fatalf(format string, args ...any) {
	s.stopped = fmt.Sprintf(format, args...)
	panic(s)
}
func (s *stopT) Skipf(format string, args ...any) { s.stopped = fmt.Sprintf(format, args...); panic(s) }

func TestStartPostgresAtMissingServer(t *testing.T) {
	st := &stopT{T: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != st {
				panic(r)
			}
		}()
		StartPostgresAt(st, t.TempDir())
		t.Error("StartPostgresAt on an empty folder returned")
	}()
	if !strings.Contains(st.stopped, "initdb not found in") {
		t.Errorf("StartPostgresAt on an empty folder stopped with %q, want initdb not found", st.stopped)
	}
}
