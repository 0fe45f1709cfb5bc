package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

// The damage matrix: for every backup shape, with and without a key, and
// every damage a bucket can suffer or an attacker can make, the restore is
// refused (exit 1) and the whole target (every database, and the roles,
// accounts and grants) is what it was before, compared by dump. Each shape
// is backed up twice (A, then B after a change, for the swapped manifest);
// each damage is made to A in place and undone after its restore; the last
// restore of A, undamaged, must give back the state A recorded.

// matrixShape is one backup shape of one engine.
type matrixShape struct {
	name   string
	engine string
	url    string
	// change alters the target after the backups, so a restore that went
	// through would show.
	change string
	exec   func(t *testing.T, sql string)
	// snapshot dumps the whole target: every database and the globals.
	snapshot func(t *testing.T) string
	// leftovers names what a refused restore left behind (staging databases).
	leftovers func(t *testing.T) string
}

// matrixDamage is one damage to a backup; it returns the message the
// refusal must hold (any of them).
type matrixDamage struct {
	name  string
	keyed int // 0 both, 1 only with a key, -1 only without
	apply func(t *testing.T, d *damageKit) []string
}

// damageKit gives a damage what it needs: the backup's objects and the
// other backup of the same shape.
type damageKit struct {
	s        s3Fixture
	path     string // the damaged backup (A)
	other    string // B, of the same shape and key
	plain    string // a backup of the same shape without a key
	dataKey  string
	data     []byte // A's data object, undamaged
	manifest []byte // A's manifest, undamaged
}

func (d *damageKit) put(t *testing.T, key string, b []byte) {
	t.Helper()
	if _, err := d.s.root.Put(context.Background(), key, bytes.NewReader(b), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (d *damageKit) get(t *testing.T, key string) []byte {
	t.Helper()
	var b []byte
	d.s.tamper(t, key, func(x []byte) []byte { b = append([]byte(nil), x...); return x })
	return b
}

// frames returns the [start, end) of each frame body of a part.
func frames(t *testing.T, b []byte) [][2]int {
	t.Helper()
	const headerSize = 42
	var out [][2]int
	for off := headerSize; off < len(b); {
		n := int(binary.BigEndian.Uint32(b[off:]))
		start := off + 5
		out = append(out, [2]int{start, start + n})
		off = start + n
	}
	if len(out) < 3 {
		t.Fatalf("the data object has %d frames; the matrix needs at least 3", len(out))
	}
	return out
}

func flipFrame(which func(n int) int) func(t *testing.T, d *damageKit) []string {
	return func(t *testing.T, d *damageKit) []string {
		b := append([]byte(nil), d.data...)
		fr := frames(t, b)
		f := fr[which(len(fr))]
		b[f[1]-1] ^= 0x20 // the frame's last byte: its seal, or payload
		d.put(t, d.dataKey, b)
		return []string{"checksum mismatch", "does not authenticate"}
	}
}

// editManifest rewrites A's manifest as JSON through fn.
func editManifest(t *testing.T, d *damageKit, fn func(m map[string]any)) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(d.manifest, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	d.put(t, d.path+artefact.ManifestName, b)
}

func firstPart(m map[string]any) map[string]any {
	return m["parts"].([]any)[0].(map[string]any)
}

var matrixDamages = []matrixDamage{
	{"flipped byte in the first frame", 0, flipFrame(func(int) int { return 0 })},
	{"flipped byte in a middle frame", 0, flipFrame(func(n int) int { return n / 2 })},
	{"flipped byte in the last frame", 0, flipFrame(func(n int) int { return n - 1 })},
	{"truncated data object", 0, func(t *testing.T, d *damageKit) []string {
		d.put(t, d.dataKey, d.data[:len(d.data)*2/3])
		return []string{"truncated", "cut short"}
	}},
	{"missing data object", 0, func(t *testing.T, d *damageKit) []string {
		if err := d.s.root.Delete(context.Background(), d.dataKey); err != nil {
			t.Fatal(err)
		}
		return []string{"missing"}
	}},
	{"edited manifest", 0, func(t *testing.T, d *damageKit) []string {
		editManifest(t, d, func(m map[string]any) {
			p := firstPart(m)
			sum := []byte(p["sha256"].(string))
			sum[10] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sum[10])+1)%16]
			p["sha256"] = string(sum)
		})
		return []string{"checksum mismatch", "manifest"}
	}},
	{"swapped manifest", 0, func(t *testing.T, d *damageKit) []string {
		d.put(t, d.path+artefact.ManifestName, d.get(t, d.other+artefact.ManifestName))
		return []string{"manifest", "checksum mismatch", "job"}
	}},
	{"forged manifest", -1, func(t *testing.T, d *damageKit) []string {
		// Sizes moved consistently: a valid manifest that does not match.
		editManifest(t, d, func(m map[string]any) {
			p := firstPart(m)
			p["raw-bytes"] = p["raw-bytes"].(float64) + 1
			m["raw-bytes"] = m["raw-bytes"].(float64) + 1
		})
		return []string{"bytes", "manifest says"}
	}},
	{"manifest downgraded to unencrypted", 1, func(t *testing.T, d *damageKit) []string {
		editManifest(t, d, func(m map[string]any) {
			m["encryption"] = artefact.EncryptionNone
			m["format-version"] = artefact.ManifestVersion
			for _, k := range []string{"key-fingerprint", "mac", "raw-digest"} {
				delete(m, k)
			}
			delete(firstPart(m), "salt")
			delete(m["log"].(map[string]any), "salt")
		})
		return []string{"is not encrypted; a key was given"}
	}},
	{"forged unencrypted part, manifest untouched", 1, func(t *testing.T, d *damageKit) []string {
		plainKey := d.s.dataKey(t, d.plain)
		d.put(t, d.dataKey, d.get(t, plainKey))
		return []string{"not encrypted", "encrypted", "sealing", "checksum mismatch"}
	}},
	{"forged unencrypted part, manifest checksums updated", 1, func(t *testing.T, d *damageKit) []string {
		plainKey := d.s.dataKey(t, d.plain)
		d.put(t, d.dataKey, d.get(t, plainKey))
		var pm map[string]any
		if err := json.Unmarshal(d.get(t, d.plain+artefact.ManifestName), &pm); err != nil {
			t.Fatal(err)
		}
		editManifest(t, d, func(m map[string]any) {
			p, q := firstPart(m), firstPart(pm)
			for _, k := range []string{"raw-bytes", "raw-sha256", "stored-bytes", "sha256"} {
				p[k] = q[k]
			}
			for _, k := range []string{"raw-bytes", "raw-sha256", "stored-bytes"} {
				m[k] = pm[k]
			}
		})
		return []string{"manifest", "not encrypted", "authenticate"}
	}},
}

func TestDamageMatrixRefusesWithTheTargetUnchanged(t *testing.T) {
	s := newS3Fixture(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, bytes.Repeat([]byte{0x5a}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	var shapes []matrixShape

	pg := testenv.StartPostgres(t)
	t.Setenv("PGPASSWORD", pg.Password)
	pg.SQL(t, "postgres", "CREATE DATABASE shop; CREATE DATABASE other; CREATE ROLE clerk LOGIN")
	pg.SQL(t, "shop", pgFixture+matrixBulkPG)
	pg.SQL(t, "other", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT i, 'n' || i FROM generate_series(1, 100) i; GRANT SELECT ON notes TO clerk")
	pgExec := func(db string) func(*testing.T, string) { return func(t *testing.T, sql string) { pg.SQL(t, db, sql) } }
	pgSnap := func(t *testing.T) string { return pg.DumpCluster(t) }
	none := func(*testing.T) string { return "" }
	shapes = append(shapes,
		matrixShape{name: "postgresql one database", engine: "postgresql", url: pg.URL("shop"),
			change: "UPDATE public.customers SET note = 'after' WHERE id < 50; CREATE TABLE IF NOT EXISTS sales.extra (x int)", exec: pgExec("shop"),
			snapshot: pgSnap, leftovers: none},
		matrixShape{name: "postgresql all databases", engine: "postgresql", url: pg.URL(""),
			change: "DELETE FROM notes WHERE id < 10; ALTER ROLE clerk NOLOGIN; REVOKE SELECT ON notes FROM clerk", exec: pgExec("other"),
			snapshot: pgSnap, leftovers: none},
	)

	my := testenv.StartMariaDB(t)
	t.Setenv("MYSQL_PWD", my.Password)
	my.SQL(t, "", "CREATE DATABASE tabs CHARACTER SET utf8mb4; CREATE DATABASE views CHARACTER SET utf8mb4; CREATE USER IF NOT EXISTS 'clerk'@'%' IDENTIFIED BY 'clerk-pw'; GRANT SELECT ON views.* TO 'clerk'@'%'")
	my.SQL(t, "tabs", matrixBulkMy)
	my.SQL(t, "views", matrixBulkMy+"CREATE VIEW big AS SELECT id FROM bulk WHERE id > 100;")
	myExec := func(db string) func(*testing.T, string) { return func(t *testing.T, sql string) { my.SQL(t, db, sql) } }
	mySnap := func(t *testing.T) string { return my.DumpAll(t) }
	myLeft := func(t *testing.T) string { return my.StagingLeftovers(t) }
	shapes = append(shapes,
		matrixShape{name: "mariadb one database of tables", engine: "mysql", url: my.URL("tabs"),
			change: "UPDATE bulk SET body = 'after' WHERE id < 50; CREATE TABLE IF NOT EXISTS extra (x int)", exec: myExec("tabs"), snapshot: mySnap, leftovers: myLeft},
		matrixShape{name: "mariadb one database with a view", engine: "mysql", url: my.URL("views"),
			change: "DELETE FROM bulk WHERE id < 20; DROP VIEW IF EXISTS big", exec: myExec("views"), snapshot: mySnap, leftovers: myLeft},
		matrixShape{name: "mariadb all databases", engine: "mysql", url: my.URL(""),
			change: "UPDATE bulk SET body = 'all after' WHERE id < 5; REVOKE SELECT ON views.* FROM 'clerk'@'%'", exec: myExec("tabs"), snapshot: mySnap, leftovers: myLeft},
	)

	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			backup := func(extra ...string) string {
				t.Helper()
				args := append([]string{"backup", "--engine", sh.engine, "--database-url", sh.url, "--storage-config", s.cfgFile, "--compression=false", "--json"}, extra...)
				code, out, errOut := runCLI(t, "", args...)
				var rep backupReport
				if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
					t.Fatalf("backup: code %d\n%s%s", code, out, errOut)
				}
				return rep.ArtefactPath
			}
			plain := backup()
			for _, keyed := range []bool{false, true} {
				var keyArgs []string
				if keyed {
					keyArgs = []string{"--encryption-key-file", keyFile}
				}
				t.Run(map[bool]string{false: "no key", true: "key"}[keyed], func(t *testing.T) {
					a := plain
					if keyed {
						a = backup(keyArgs...)
					}
					recorded := sh.snapshot(t)
					sh.exec(t, sh.change)
					b := backup(keyArgs...)
					before := sh.snapshot(t)
					if before == recorded {
						t.Fatal("the change made after the backup does not show in the dump")
					}
					d := &damageKit{s: s, path: a, other: b, plain: plain, dataKey: s.dataKey(t, a)}
					d.data, d.manifest = d.get(t, d.dataKey), d.get(t, a+artefact.ManifestName)
					for _, dm := range matrixDamages {
						if dm.keyed == 1 && !keyed || dm.keyed == -1 && keyed {
							continue
						}
						t.Run(dm.name, func(t *testing.T) {
							want := dm.apply(t, d)
							defer func() {
								d.put(t, d.dataKey, d.data)
								d.put(t, a+artefact.ManifestName, d.manifest)
							}()
							args := append([]string{"restore", "--engine", sh.engine, "--database-url", sh.url, "--storage-config", s.cfgFile, "--artefact-path", a}, keyArgs...)
							code, out, errOut := runCLI(t, "", args...)
							if code != 1 || !containsAny(errOut, want) {
								t.Fatalf("restore: code %d, want 1 and one of %q\n%s%s", code, want, out, errOut)
							}
							if got := sh.snapshot(t); got != before {
								t.Fatalf("a refused restore changed the target:\n%s", lineDiff(before, got))
							}
							if l := sh.leftovers(t); l != "" {
								t.Fatalf("a refused restore left %s", l)
							}
						})
					}
					// Undamaged, A restores the state it recorded.
					args := append([]string{"restore", "--engine", sh.engine, "--database-url", sh.url, "--storage-config", s.cfgFile, "--artefact-path", a}, keyArgs...)
					if code, out, errOut := runCLI(t, "", args...); code != 0 {
						t.Fatalf("restore of the undamaged backup: code %d\n%s%s", code, out, errOut)
					}
					if got := sh.snapshot(t); got != recorded {
						t.Fatalf("the restored target is not the state the backup recorded:\n%s", lineDiff(recorded, got))
					}
				})
			}
		})
	}
}

// matrixBulkPG makes the shop database span several 1 MiB frames.
const matrixBulkPG = `
CREATE TABLE public.bulk (id int PRIMARY KEY, body text);
INSERT INTO public.bulk SELECT i, repeat(md5(i::text), 8) FROM generate_series(1, 12000) i;
`

// matrixBulkMy is the MariaDB counterpart.
const matrixBulkMy = `
CREATE TABLE bulk (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB;
INSERT INTO bulk SELECT seq, REPEAT(MD5(seq), 8) FROM seq_1_to_12000;
`

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// lineDiff lists the lines of want missing from got and the lines of got
// not in want (at most 20 of each).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] && len(out) < 20 {
			out = append(out, "- "+l)
		}
	}
	n := len(out)
	for _, l := range strings.Split(got, "\n") {
		if !w[l] && len(out) < n+20 {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
