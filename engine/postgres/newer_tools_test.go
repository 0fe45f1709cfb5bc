package postgres_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// settingRowSQL makes a table whose rows read like the session settings
// a restore leaves out of pg_restore's script for a server that does not
// know them: data, which must come back as it was.
const settingRowSQL = `
CREATE TABLE public.script_lines (line text);
INSERT INTO public.script_lines VALUES ('SET transaction_timeout = 0;'), ('SET transaction_timeout = 0;  '),
  (E'x\nSET transaction_timeout = 0;'), ('SET lock_timeout = 0;');
`

// restoreWithNewestTools: the newest client tools here (17 or later,
// whose pg_restore sets transaction_timeout in its script) back up and
// restore one database, then all of them (--create scripts, which set
// the session again after each \connect), on a server of major; each
// restore gives back exactly the backup, rows that read like the left
// out setting included.
func restoreWithNewestTools(t *testing.T, p *testenv.Postgres, major int) {
	bin := testenv.PostgresClientBinDir(17)
	if bin == "" {
		testenv.Unavailable(t, "PostgreSQL client tools of 17 or later not found in /usr/lib/postgresql nor %s; run scripts/install-postgres-npm.sh 18", testenv.CacheDir())
	}
	p.SQL(t, "postgres", "CREATE DATABASE newer")
	p.SQL(t, "postgres", "ALTER DATABASE newer SET work_mem = '8MB'")
	p.SQL(t, "newer", variedSQL+settingRowSQL)
	opts := postgres.Options{BinDir: bin}
	one, _, _ := backup(t, postgres.New(connOf(p, "newer"), opts))
	wantOne := p.Dump(t, "newer")
	all, _, _ := backup(t, postgres.New(connOf(p, ""), opts))
	wantAll := p.DumpCluster(t)

	p.SQL(t, "newer", "DELETE FROM public.script_lines; UPDATE shop.customer SET name = 'x'; CREATE TABLE public.since (i int)")
	if got := p.Dump(t, "newer"); got == wantOne {
		t.Fatal("the changes did not change the dump: the test would prove nothing")
	}
	var log bytes.Buffer
	if _, err := postgres.New(connOf(p, "newer"), opts).Restore(context.Background(), engine.RestoreSpec{Unchecked: true, Log: &log}, bytes.NewReader(one)); err != nil {
		t.Fatalf("Restore: %v\nlog:\n%s", err, log.String())
	}
	if said := strings.Contains(log.String(), "writes transaction_timeout, which PostgreSQL "+strconv.Itoa(major)+" does not know"); said != (major < 17) {
		t.Errorf("a restore into %d by the tools of %s: the log tells of transaction_timeout left out: %v, want %v\n%s", major, bin, said, major < 17, log.String())
	}
	if got := p.Dump(t, "newer"); got != wantOne {
		t.Errorf("restored into %d by the tools of %s, the database differs from the backup:\n%s", major, bin, dumpDiff(wantOne, got))
	}

	p.SQL(t, "newer", "DELETE FROM public.script_lines WHERE line LIKE 'SET%'; CREATE TABLE public.later (i int)")
	p.SQL(t, "postgres", "ALTER DATABASE newer RESET work_mem")
	restore(t, postgres.New(connOf(p, ""), opts), engine.RestoreSpec{}, all)
	if got := p.DumpCluster(t); got != wantAll {
		t.Errorf("restored into %d by the tools of %s, the server differs from the backup:\n%s", major, bin, dumpDiff(wantAll, got))
	}
}
