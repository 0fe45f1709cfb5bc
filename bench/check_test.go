package bench

import (
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestMariaSumsCompareAcrossDatabases: the checksums of a restored copy,
// in a database of another name, must equal the source's when the content
// is the same, and differ when one row differs (else the restore checks of
// BenchmarkMariaDB could pass nothing or fail everything).
func TestMariaSumsCompareAcrossDatabases(t *testing.T) {
	m := testenv.StartMariaDB(t)
	for _, db := range []string{"src", "copy"} {
		m.SQL(t, "", "CREATE DATABASE "+db+"; USE "+db+`;
CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, txt TEXT NOT NULL) ENGINE=InnoDB;
INSERT INTO t (txt) SELECT CONCAT('row ', seq) FROM seq_1_to_100;`)
	}
	want := mariaSums(t, m, "src")
	if len(want) < 2 {
		t.Fatalf("checksums of src: %v, want the table and its AUTO_INCREMENT", want)
	}
	if diffs := testenv.DiffSums(want, mariaSums(t, m, "copy")); len(diffs) > 0 {
		t.Fatalf("identical copies differ: %v", diffs)
	}
	m.SQL(t, "copy", "UPDATE t SET txt = 'changed' WHERE id = 50")
	if diffs := testenv.DiffSums(want, mariaSums(t, m, "copy")); len(diffs) != 1 {
		t.Fatalf("a changed row gives differences %v, want one", diffs)
	}
}

// TestPgSumsCompareAcrossDatabases is the same for PostgreSQL, sequences
// included.
func TestPgSumsCompareAcrossDatabases(t *testing.T) {
	p := testenv.StartPostgres(t)
	for _, db := range []string{"src", "copy"} {
		p.SQL(t, "postgres", "CREATE DATABASE "+db)
		p.SQL(t, db, `CREATE TABLE t (id bigserial PRIMARY KEY, txt text NOT NULL);
INSERT INTO t (txt) SELECT 'row ' || i FROM generate_series(1, 100) i;`)
	}
	want := p.Checksums(t, "src")
	checkPgRestore(t, p, "identical copy", "copy", want)
	p.SQL(t, "copy", "UPDATE t SET txt = 'changed' WHERE id = 50")
	if diffs := testenv.DiffSums(want, p.Checksums(t, "copy")); len(diffs) != 1 {
		t.Fatalf("a changed row gives differences %v, want one", diffs)
	}
}
