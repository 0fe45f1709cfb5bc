package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
	"github.com/dbbackup/dbbackup/store/storetest"
)

// A MariaDB agent set to one database of tables alone, through the real
// charms: the manifest says tables-only, so the restore loads through a
// staging database and swaps the tables in (a table made since is gone);
// a damaged backup fails the restore job with the database untouched;
// nothing is left behind.
func TestMariaDBOneDatabaseStagedRestore(t *testing.T) {
	s := start(t, model.Options{MariaDB: true})
	s.Maria.SQL(t, "", `CREATE DATABASE crm; USE crm; CREATE TABLE crm.people (id int PRIMARY KEY, name text) ENGINE=InnoDB;
INSERT INTO crm.people SELECT seq, CONCAT('Zoë ', seq) FROM seq_1_to_5000;
CREATE TABLE crm.notes (id int, t text); INSERT INTO crm.notes VALUES (1, 'ä'), (2, NULL);`)
	if err := s.Config(model.MariaDB, map[string]string{"databases": "crm"}); err != nil {
		t.Fatal(err)
	}
	want := s.Maria.Checksums(t, "crm")
	leader := s.Leader()
	id := ok(t, s, leader, "create-backup", nil)["job-id"].(string)
	path, _ := wait(t, s, id)["artefact-path"].(string)
	ctx := context.Background()
	st, err := s3.New(s.S3.StorageConfig(model.Bucket), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := artefact.ReadManifest(ctx, st, path)
	if err != nil || !m.Engine.TablesOnly || strings.Join(m.Engine.Databases, ",") != "crm" {
		t.Fatalf("manifest of %q: databases %v, tables-only %v, err %v; want crm, tables alone", path, m.Engine.Databases, m.Engine.TablesOnly, err)
	}
	leftovers := func() string { return s.Maria.StagingLeftovers(t) }

	// The server counts RENAME TABLE statements: the staged path runs one,
	// the checked path none.
	renames := func() string { return s.Maria.SQL(t, "", "SHOW GLOBAL STATUS LIKE 'Com_rename_table'") }
	s.Maria.SQL(t, "crm", "DELETE FROM people WHERE id > 10; UPDATE notes SET t = 'x'; CREATE TABLE keep (i int); INSERT INTO keep VALUES (7)")
	renamesBefore := renames()
	rid := ok(t, s, leader, "restore", map[string]any{"backup-id": id})["job-id"].(string)
	wait(t, s, rid)
	if renamesAfter := renames(); renamesAfter == renamesBefore {
		t.Errorf("no RENAME TABLE ran (%q): the restore did not go through a staging database", renamesAfter)
	}
	// keep, made after the backup, is gone with the rest of what changed.
	if d := testenv.DiffSums(want, s.Maria.Checksums(t, "crm")); len(d) > 0 {
		t.Errorf("not restored to the backup's state: %v", d)
	}
	if l := leftovers(); l != "" {
		t.Errorf("the restore left %s", l)
	}

	// Damage the middle of the stored data: the restore job fails, the
	// database stays as it is.
	var data string
	for obj, err := range st.List(ctx, path, store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(obj.Key, ".dbbk") {
			data = obj.Key
		}
	}
	storetest.Rewrite(t, st, data, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	s.Maria.SQL(t, "crm", "UPDATE people SET name = 'after' WHERE id < 5")
	before := s.Maria.Checksums(t, "crm")
	rid = ok(t, s, leader, "restore", map[string]any{"backup-id": id})["job-id"].(string)
	res, err := s.Wait(rid, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := res["message"].(string); res["status"] != "error" || !strings.Contains(msg, "checksum mismatch") {
		t.Fatalf("restore of a damaged backup: %v", res)
	}
	if d := testenv.DiffSums(before, s.Maria.Checksums(t, "crm")); len(d) > 0 {
		t.Errorf("a failed restore changed the database: %v", d)
	}
	if l := leftovers(); l != "" {
		t.Errorf("the failed restore left %s", l)
	}
	noCanary(t, s)
}
