package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

func TestClusterRestoreGivesBackTheBackup(t *testing.T) {
	p := testenv.StartPostgres(t)
	p.SQL(t, "postgres", "CREATE ROLE clerk LOGIN PASSWORD 'clerk-pw'")
	p.SQL(t, "postgres", "CREATE DATABASE one")
	p.SQL(t, "postgres", "CREATE DATABASE two OWNER clerk")
	p.SQL(t, "postgres", "ALTER DATABASE two SET work_mem = '8MB'")
	p.SQL(t, "one", exactSQL+"GRANT SELECT ON s1.item TO clerk;")
	p.SQL(t, "two", exactSQL+"CREATE TABLE public.clerks_own (i int); ALTER TABLE public.clerks_own OWNER TO clerk; INSERT INTO public.clerks_own VALUES (7);")
	data, res, _ := backup(t, newEngine(p, ""))
	want := p.DumpCluster(t)
	if !newEngine(p, "").NeedsCheckedStream(res) {
		t.Errorf("NeedsCheckedStream(%s) = false, want true", res.Format)
	}

	// A database changed in every way, one dropped, one made since; a role
	// of the backup dropped, one made since.
	p.SQL(t, "one", mutateSQL+"DROP OWNED BY clerk;")
	p.SQL(t, "postgres", "DROP DATABASE two")
	p.SQL(t, "postgres", "DROP ROLE clerk; CREATE ROLE newbie")
	p.SQL(t, "postgres", "CREATE DATABASE later")
	p.SQL(t, "later", "CREATE TABLE kept (i int); INSERT INTO kept VALUES (1), (2)")
	p.SQL(t, "postgres", "CREATE TABLE public.extra (i int)")
	later := p.Dump(t, "later")

	// A stream checked only as it is read is refused before anything.
	_, err := newEngine(p, "").Restore(context.Background(), engine.RestoreSpec{Unchecked: true}, bytes.NewReader(data))
	if !errors.Is(err, engine.ErrNeedsCheckedStream) {
		t.Errorf("unchecked cluster restore: got %v, want ErrNeedsCheckedStream", err)
	}
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'clerk'")); got != "0" {
		t.Errorf("the refused restore replayed the roles")
	}

	restore(t, newEngine(p, ""), engine.RestoreSpec{}, data)
	if got := p.Dump(t, "later"); got != later {
		t.Errorf("a database made after the backup changed:\n%s", dumpDiff(later, got))
	}
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname IN ('clerk', 'newbie')")); got != "2" {
		t.Errorf("got %s of the roles clerk (in the backup) and newbie (made since), want both", got)
	}
	if got := strings.TrimSpace(p.SQL(t, "postgres", "SELECT pg_get_userbyid(datdba) || ' ' || array_to_string(setconfig, ',') FROM pg_database d JOIN pg_db_role_setting s ON s.setdatabase = d.oid AND s.setrole = 0 WHERE datname = 'two'")); got != "clerk work_mem=8MB" {
		t.Errorf("database two: owner and settings %q, want clerk work_mem=8MB\n%s", got, p.SQL(t, "postgres", "SELECT datname, pg_get_userbyid(datdba), s.* FROM pg_database d LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid"))
	}
	// Less what the backup could not know of, the server is the backup's.
	p.SQL(t, "postgres", "DROP DATABASE later")
	p.SQL(t, "postgres", "DROP ROLE newbie")
	if got := p.DumpCluster(t); got != want {
		t.Errorf("the restored cluster differs from the backup:\n%s", dumpDiff(want, got))
	}
}

func TestClusterRestoreFailureDropsWhatItCreated(t *testing.T) {
	p := testenv.StartPostgres(t)
	p.SQL(t, "postgres", "CREATE DATABASE alpha")
	p.SQL(t, "postgres", "CREATE DATABASE beta")
	p.SQL(t, "alpha", exactSQL)
	p.SQL(t, "beta", exactSQL)
	data, _, _ := backup(t, newEngine(p, ""))
	p.SQL(t, "postgres", "DROP DATABASE alpha")
	p.SQL(t, "postgres", "DROP DATABASE beta")
	before := p.DumpCluster(t)

	// Cut inside beta's archive: alpha is made and loaded, beta fails.
	cut := bytes.Index(data, []byte("beta")) + 2000
	_, err := newEngine(p, "").Restore(context.Background(), engine.RestoreSpec{}, bytes.NewReader(data[:cut]))
	if err == nil || !strings.Contains(err.Error(), `database "beta"`) {
		t.Fatalf("got %v, want a failure of database beta", err)
	}
	if got := p.DumpCluster(t); got != before {
		t.Errorf("the failed restore left databases it created behind:\n%s", dumpDiff(before, got))
	}
}
