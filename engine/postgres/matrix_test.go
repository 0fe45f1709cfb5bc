package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestVersionMatrix runs, on one server of each major of
// testenv.PostgresMatrix (those Charmed PostgreSQL runs, beside the
// default server of every other test), the tests whose outcome depends on
// the server's version: a restore by a database's owner, a restore by
// the newest client tools, the WAL
// archiver's restart, and a physical backup with a point-in-time
// restore. The engine runs the client tools testenv picks for the
// server: the lowest major at least its own (pg_basebackup,
// pg_receivewal and pg_verifybackup included).
func TestVersionMatrix(t *testing.T) {
	for _, major := range testenv.PostgresMatrix {
		t.Run(strconv.Itoa(major), func(t *testing.T) {
			p := testenv.StartPostgresMajor(t, major)
			t.Run("RestoreAsDatabaseOwner", func(t *testing.T) { restoreAsDatabaseOwner(t, p, major) })
			t.Run("RestoreWithNewestTools", func(t *testing.T) { restoreWithNewestTools(t, p, major) })
			t.Run("ArchiverRestartsWithoutAGap", func(t *testing.T) {
				p.SQL(t, "postgres", "DROP TABLE IF EXISTS batches")
				archiverRestartsWithoutAGap(t, startArchivedOn(t, p, "restart"))
			})
			t.Run("PhysicalBackupAndPointInTimeRecovery", func(t *testing.T) {
				p.SQL(t, "postgres", "DROP TABLE IF EXISTS batches")
				physicalBackupAndPointInTimeRecovery(t, startArchivedOn(t, p, "pitr"))
			})
		})
	}
}

// restoreAsDatabaseOwner: the owner of a database (no superuser) to whom
// its public schema was given restores the database. On PostgreSQL 14,
// whose initdb gives the public schema to the bootstrap superuser, the
// restore cannot give the schema back to the superuser as on a fresh 14
// database, nor keep its owner (pg_restore --no-owner): it gives it to
// pg_database_owner, of which the database's owner is a member. Less
// that owner, set back by hand, the database is the backup's. On 16 the
// client tools are 18's, whose script sets transaction_timeout, which 16
// does not know: the restore leaves that setting out, and only there (a
// row that reads like it survives).
func restoreAsDatabaseOwner(t *testing.T, p *testenv.Postgres, major int) {
	p.SQL(t, "postgres", "CREATE ROLE keeper LOGIN PASSWORD 'keeper-pw'; CREATE DATABASE kept OWNER keeper")
	p.SQL(t, "kept", "ALTER SCHEMA public OWNER TO keeper")
	p.SQL(t, "kept", "SET ROLE keeper;"+exactSQL+settingRowSQL)
	owner := connOf(p, "kept")
	owner.User, owner.Password = "keeper", "keeper-pw"
	e := postgres.New(owner, postgres.Options{BinDir: p.BinDir})
	data, res, _ := backup(t, e)
	if want := strconv.Itoa(major) + "."; !strings.HasPrefix(res.ServerVersion, want) {
		t.Fatalf("backed up a %s server, want %d", res.ServerVersion, major)
	}
	want := p.Dump(t, "kept")

	p.SQL(t, "kept", "SET ROLE keeper; UPDATE s1.item SET name = 'x'; CREATE TABLE public.since (i int);")
	changed := p.Dump(t, "kept")
	if changed == want {
		t.Fatal("the changes did not change the dump: the test would prove nothing")
	}
	restore(t, e, engine.RestoreSpec{Unchecked: true}, data)
	p.SQL(t, "kept", "ALTER SCHEMA public OWNER TO keeper")
	if got := p.Dump(t, "kept"); got != want {
		t.Errorf("restored by the database's owner, the database differs from the backup:\n%s", dumpDiff(want, got))
	}
}

// archiverRestartsWithoutAGap: PostgreSQL 14 has no
// READ_REPLICATION_SLOT, so pg_receivewal started on an empty spool would
// begin at the server's current position; the archiver keeps the newest
// segment in the spool, so a restart goes on from it. WAL written while
// the archiver is down (kept by the slot) is archived once it is back.
func archiverRestartsWithoutAGap(t *testing.T, k *pitrKit) {
	k.p.SQL(t, "postgres", "CREATE TABLE batches (b text)")
	res, tarBytes := k.base(t)
	// write writes batches from to to-1, each in its own segment, then
	// commits one more record: after a switch, the next segment holds no
	// WAL until a record is written (the server's own comes within 15 s),
	// and WaitReceived waits for it.
	write := func(from, to int) {
		for i := from; i < to; i++ {
			lsn := k.p.SQL(t, "postgres", fmt.Sprintf("INSERT INTO batches VALUES ('%d'); SELECT pg_walfile_name(pg_current_wal_lsn()), pg_switch_wal()", i))
			fmt.Fprintf(k.log, "test: batch %d in %s\n", i, strings.TrimSpace(lsn))
		}
		k.p.SQL(t, "postgres", "CREATE TABLE IF NOT EXISTS tick (i int); INSERT INTO tick VALUES (1)")
	}
	write(0, 2)
	k.p.WaitReceived(t)
	k.stop()
	// As if it had stopped right at the end of a segment: no partial
	// segment to go on from (it is archived).
	partials, _ := filepath.Glob(filepath.Join(k.spool, "*.partial"))
	for _, p := range partials {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	write(2, 5) // while the archiver is down
	k.startArchiver(t)
	k.p.SQL(t, "postgres", "INSERT INTO batches VALUES ('end')")
	k.p.WaitReceived(t)
	k.stop()
	ctx := context.Background()
	plan, err := postgres.PrepareRecovery(ctx, *res.Physical, time.Time{}, k.arch)
	if err != nil {
		t.Fatalf("PrepareRecovery: %v", err)
	}
	dir := k.p.NewDataDir(t, "restored-after-restart")
	if err := k.eng.RestoreBase(ctx, postgres.BaseRestoreSpec{Dir: dir, RestoreCommand: k.arch.restoreCommand(), Timeline: plan.Timeline,
		ServerVersion: res.ServerVersion},
		bytes.NewReader(tarBytes)); err != nil {
		t.Fatalf("RestoreBase: %v", err)
	}
	if got := batches(t, k.p.StartFromDataDir(t, dir)); got != "0,1,2,3,4,end" {
		ents, _ := os.ReadDir(k.arch.dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("restored rows %q, want 0,1,2,3,4,end; the archive holds %q; the archiver's log:\n%s", got, names, k.log)
	}
}
