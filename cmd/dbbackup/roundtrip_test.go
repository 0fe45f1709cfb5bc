package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
	"github.com/dbbackup/dbbackup/store/storetest"
)

// pgFixture fills database shop with varied types, several schemas, a
// sequence, NULLs and non-ASCII text.
const pgFixture = `
CREATE SCHEMA sales;
CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL, note text, born date, photo bytea, balance numeric(12,2));
CREATE TABLE sales.orders (id bigserial PRIMARY KEY, customer int REFERENCES public.customers(id), placed timestamptz, total numeric(10,3), tags text[], doc jsonb);
INSERT INTO public.customers (name, note, born, photo, balance)
  SELECT 'Zoë Ångström ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || md5(i::text) END,
         date '1970-01-01' + i, decode(md5(i::text), 'hex'), i * 1.25
  FROM generate_series(1, 3000) i;
INSERT INTO sales.orders (customer, placed, total, tags, doc)
  SELECT 1 + i % 3000, timestamptz '2026-01-01 00:00+00' + i * interval '1 minute', i / 7.0, ARRAY['a', 'ü' || i], jsonb_build_object('n', i, 'ok', i % 2 = 0)
  FROM generate_series(1, 20000) i;
`

type s3Fixture struct {
	cfgFile string
	root    *s3.Store // the bucket's root, for tampering
	secrets []string
}

func newS3Fixture(t *testing.T) s3Fixture {
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	cfg := srv.StorageConfig("backups")
	cfg.Path = "prod"
	root, err := s3.New(srv.StorageConfig("backups"), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s3Fixture{cfgFile: writeStorageConfig(t, cfg), root: root, secrets: cfg.Secrets()}
}

// tamper rewrites one object of a backup through fn.
func (f s3Fixture) tamper(t *testing.T, key string, fn func([]byte) []byte) {
	t.Helper()
	storetest.Rewrite(t, f.root, key, fn)
}

// dataKey finds the data object of the backup at path.
func (f s3Fixture) dataKey(t *testing.T, path string) string {
	t.Helper()
	for obj, err := range f.root.List(context.Background(), path, store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(obj.Key, ".dbbk") {
			return obj.Key
		}
	}
	t.Fatalf("no data object under %s", path)
	return ""
}

// mustNotLeak fails if any output holds a secret.
func mustNotLeak(t *testing.T, secrets []string, outputs ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, o := range outputs {
			if s != "" && strings.Contains(o, s) {
				t.Fatalf("a secret leaked into the output:\n%s", o)
			}
		}
	}
}

func TestPostgresBackupRestoreOnRealParts(t *testing.T) {
	pg := testenv.StartPostgres(t)
	s := newS3Fixture(t)
	t.Setenv("PGPASSWORD", pg.Password)
	secrets := append(s.secrets, pg.Password)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", pgFixture)
	want := pg.Checksums(t, "shop")
	if len(want) < 3 {
		t.Fatalf("fixture too small: %v", want)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, bytes.Repeat([]byte("k"), 32), 0o600)
	otherKey := filepath.Join(t.TempDir(), "other")
	os.WriteFile(otherKey, bytes.Repeat([]byte("o"), 32), 0o600)

	backup := func(extra ...string) backupReport {
		t.Helper()
		args := append([]string{"backup", "--engine", "postgresql", "--database-url", pg.URL("shop"), "--storage-config", s.cfgFile, "--json"}, extra...)
		code, out, errOut := runCLI(t, "", args...)
		mustNotLeak(t, secrets, out, errOut)
		var rep backupReport
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
		}
		return rep
	}
	restore := func(path string, extra ...string) (int, string) {
		t.Helper()
		args := append([]string{"restore", "--engine", "postgresql", "--database-url", pg.URL("shop"), "--storage-config", s.cfgFile, "--artefact-path", path}, extra...)
		code, out, errOut := runCLI(t, "", args...)
		mustNotLeak(t, secrets, out, errOut)
		return code, out + errOut
	}

	plain := backup()
	enc := backup("--encryption-key-file", keyFile, "--compression=false")
	if plain.RawBytes == 0 || plain.StoredBytes >= plain.RawBytes || enc.Encryption != "aes-256-gcm" || !strings.HasPrefix(plain.ArtefactPath, "prod/postgresql/job-") {
		t.Fatalf("reports: %+v %+v", plain, enc)
	}

	// Round trip: break the data, restore, compare table by table.
	pg.SQL(t, "shop", "DELETE FROM sales.orders WHERE id % 2 = 0; UPDATE public.customers SET name = 'x'; DROP SCHEMA sales CASCADE;")
	if code, out := restore(plain.ArtefactPath); code != 0 {
		t.Fatalf("restore: code %d\n%s", code, out)
	}
	if got := pg.Checksums(t, "shop"); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored database differs:\ngot  %v\nwant %v", got, want)
	}
	if code, out := restore(enc.ArtefactPath, "--encryption-key-file", keyFile); code != 0 {
		t.Fatalf("encrypted restore: code %d\n%s", code, out)
	}
	if got := pg.Checksums(t, "shop"); !reflect.DeepEqual(got, want) {
		t.Fatalf("database restored from the encrypted backup differs")
	}

	// Every refusal leaves the database exactly as it was.
	pg.SQL(t, "shop", "UPDATE public.customers SET note = 'changed after the backup' WHERE id < 100")
	before := pg.Checksums(t, "shop")
	bad := []struct {
		name, want string
		path       func() string
		extra      []string
	}{
		{"flipped byte", "checksum mismatch", func() string {
			p := backup().ArtefactPath
			s.tamper(t, s.dataKey(t, p), func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
			return p
		}, nil},
		{"truncated", "truncated", func() string {
			p := backup().ArtefactPath
			s.tamper(t, s.dataKey(t, p), func(b []byte) []byte { return b[:len(b)*2/3] })
			return p
		}, nil},
		{"missing manifest", "incomplete", func() string {
			p := backup().ArtefactPath
			if err := s.root.Delete(context.Background(), p+artefact.ManifestName); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil},
		{"wrong key", "wrong encryption key", func() string { return enc.ArtefactPath }, []string{"--encryption-key-file", otherKey}},
		{"no key", "encrypted", func() string { return enc.ArtefactPath }, nil},
		{"nonexistent", "no backup at prod/postgresql/job-nope/", func() string { return "prod/postgresql/job-nope/" }, nil},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			code, out := restore(c.path(), c.extra...)
			if code != 1 || !strings.Contains(out, c.want) {
				t.Fatalf("restore: code %d, want 1 and %q:\n%s", code, c.want, out)
			}
			if got := pg.Checksums(t, "shop"); !reflect.DeepEqual(got, before) {
				t.Fatalf("a refused restore changed the database")
			}
		})
	}

	// Nothing in the bucket holds the database password.
	for obj, err := range s.root.List(context.Background(), "", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		s.tamper(t, obj.Key, func(b []byte) []byte {
			mustNotLeak(t, secrets, string(b))
			return b
		})
	}
}

func TestMariaDBBackupRestoreOnRealParts(t *testing.T) {
	db := testenv.StartMariaDB(t)
	s := newS3Fixture(t)
	t.Setenv("MYSQL_PWD", db.Password)
	secrets := append(s.secrets, db.Password)
	db.SQL(t, "", "CREATE DATABASE shop CHARACTER SET utf8mb4")
	db.SQL(t, "shop", `
CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT NULL, born DATE, photo BLOB, balance DECIMAL(12,2)) ENGINE=InnoDB;
INSERT INTO customers (name, note, born, photo, balance) SELECT CONCAT('Zoë Ångström ', seq), IF(seq % 3 = 0, NULL, MD5(seq)), DATE_ADD('1970-01-01', INTERVAL seq DAY), UNHEX(MD5(seq)), seq * 1.25 FROM seq_1_to_3000;
CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer INT, placed DATETIME(3), total DECIMAL(10,3), FOREIGN KEY (customer) REFERENCES customers(id)) ENGINE=InnoDB;
INSERT INTO orders (customer, placed, total) SELECT 1 + seq % 3000, DATE_ADD('2026-01-01', INTERVAL seq MINUTE), seq / 7 FROM seq_1_to_20000;
`)
	want := db.Checksums(t, "shop")
	code, out, errOut := runCLI(t, "", "backup", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--json")
	mustNotLeak(t, secrets, out, errOut)
	var rep backupReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	db.SQL(t, "shop", "DELETE FROM orders WHERE id % 2 = 0; UPDATE customers SET name = 'x';")
	restore := func(path string) (int, string) {
		code, out, errOut := runCLI(t, "", "restore", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--artefact-path", path)
		mustNotLeak(t, secrets, out, errOut)
		return code, out + errOut
	}
	if code, out := restore(rep.ArtefactPath); code != 0 {
		t.Fatalf("restore: code %d\n%s", code, out)
	}
	if got := db.Checksums(t, "shop"); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored database differs:\ngot  %v\nwant %v", got, want)
	}
	leftovers := func() string { return db.StagingLeftovers(t) }
	if l := leftovers(); l != "" {
		t.Fatalf("the staged restore left %s", l)
	}
	// A damaged backup (tables alone: loaded through a staging database
	// while it is checked) is refused with the database unchanged, whether
	// the damage is met midway or only at the end.
	db.SQL(t, "shop", "UPDATE customers SET note = 'after' WHERE id < 10")
	before := db.Checksums(t, "shop")
	key := s.dataKey(t, rep.ArtefactPath)
	s.tamper(t, key, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	if code, out := restore(rep.ArtefactPath); code != 1 || !strings.Contains(out, "checksum mismatch") {
		t.Fatalf("restore of a backup damaged midway: code %d\n%s", code, out)
	}
	if got := db.Checksums(t, "shop"); !reflect.DeepEqual(got, before) {
		t.Fatalf("a refused restore changed the database")
	}
	s.tamper(t, key, func(b []byte) []byte { b[len(b)/2] ^= 1; b[len(b)-100] ^= 1; return b })
	if code, out := restore(rep.ArtefactPath); code != 1 || !strings.Contains(out, "checksum mismatch") {
		t.Fatalf("restore of a backup damaged at the end: code %d\n%s", code, out)
	}
	if got := db.Checksums(t, "shop"); !reflect.DeepEqual(got, before) {
		t.Fatalf("a refused restore changed the database")
	}
	if l := leftovers(); l != "" {
		t.Fatalf("the refused restores left %s", l)
	}
	// A database with a view is checked whole before the client starts.
	db.SQL(t, "shop", "CREATE VIEW big AS SELECT * FROM orders WHERE total > 100")
	want = db.Checksums(t, "shop")
	code, out, errOut = runCLI(t, "", "backup", "--engine", "mysql", "--database-url", db.URL("shop"), "--storage-config", s.cfgFile, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
	}
	db.SQL(t, "shop", "DELETE FROM orders WHERE id % 3 = 0; DROP VIEW big")
	if code, out := restore(rep.ArtefactPath); code != 0 {
		t.Fatalf("restore with a view: code %d\n%s", code, out)
	}
	if got := db.Checksums(t, "shop"); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored database with a view differs:\ngot  %v\nwant %v", got, want)
	}
	if got := db.SQL(t, "shop", "SELECT COUNT(*) > 0 FROM big"); got != "1\n" {
		t.Fatalf("the view was not restored: %q", got)
	}
	// A PostgreSQL restore of a MariaDB backup is refused by engine.
	code, _, errOut = runCLI(t, "", "restore", "--engine", "postgresql", "--database-url", "postgres://u@127.0.0.1:1/x", "--storage-config", s.cfgFile, "--artefact-path", rep.ArtefactPath)
	if code != 1 || !strings.Contains(errOut, "holds a mysql backup") {
		t.Fatalf("cross-engine restore: code %d, %s", code, errOut)
	}
}
