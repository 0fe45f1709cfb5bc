package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// newKey returns a random key and the forms it may be written in.
func newKey(t *testing.T) ([]byte, []string) {
	t.Helper()
	k := make([]byte, artefact.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(k)
	return k, []string{h, strings.ToUpper(h), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k), string(k)}
}

// manifestOf reads the manifest of the backup at an artefact-path.
func manifestOf(t *testing.T, s *model.Stack, path string) artefact.Manifest {
	t.Helper()
	ref, err := artefact.ParseRef(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s3.NewRoot(s.S3.StorageConfig(model.Bucket), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := artefact.ReadManifest(context.Background(), st, ref.Path())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Encryption through a Juju secret, with the real agent on PostgreSQL and
// MariaDB: the backups are encrypted with the secret's key and their
// fingerprint is in the history and in list-backups; after a rotation new
// backups use the new key and the old ones still restore; with the old key
// gone, the restore fails naming its fingerprint; a provider that lists
// its capabilities without encryption-secret gets no encrypted backup; no
// form of a key shows anywhere the model records.
func TestEncryptionThroughSecrets(t *testing.T) {
	s := start(t, model.Options{Postgres: true, MariaDB: true})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 300) g")
	s.Maria.SQL(t, "", "CREATE DATABASE crm; CREATE TABLE crm.people (id int primary key, name text); INSERT INTO crm.people VALUES (1,'Zoë'),(2,'Ana')")
	pgWant, mariaWant := s.PG.Checksums(t, "shop"), s.Maria.Checksums(t, "crm")
	leader := s.Leader()
	var outputs []string
	run := func(action string, params map[string]any) map[string]any {
		t.Helper()
		res := ok(t, s, leader, action, params)
		outputs = append(outputs, fmt.Sprint(res))
		return res
	}

	k1, forms1 := newKey(t)
	k2, forms2 := newKey(t)
	fp1, fp2 := artefact.Fingerprint(k1), artefact.Fingerprint(k2)
	uri, err := s.M.AddSecret(map[string]string{"key": forms1[0]}, model.Manager)
	if err != nil {
		t.Fatal(err)
	}
	s.Must(s.Config(model.Manager, map[string]string{"encryption-secret": uri}))

	pg1 := run("create-backup", map[string]any{"application": model.Postgres})["job-id"].(string)
	maria1 := run("create-backup", map[string]any{"application": model.MariaDB})["job-id"].(string)
	pgPath := wait(t, s, pg1)["artefact-path"].(string)
	mariaPath := wait(t, s, maria1)["artefact-path"].(string)
	for _, p := range []string{pgPath, mariaPath} {
		if m := manifestOf(t, s, p); m.Encryption != artefact.EncryptionAES || m.KeyFingerprint != fp1 {
			t.Errorf("backup %s: encryption %q, key %q; want %s with %s", p, m.Encryption, m.KeyFingerprint, artefact.EncryptionAES, fp1)
		}
	}
	for _, id := range []string{pg1, maria1} {
		if r, _ := history(t, s).Find(id); r.KeyFingerprint != fp1 {
			t.Errorf("history of %s: key-fingerprint %q, want %s", id, r.KeyFingerprint, fp1)
		}
	}

	// Rotation: a new key for new backups, the old one kept.
	s.Must(s.M.UpdateSecret(uri, map[string]string{"key": forms2[2], "previous-keys": forms1[0]}))
	s.Settle()
	s.PG.SQL(t, "shop", "DELETE FROM items WHERE id > 200")
	pg2 := run("create-backup", map[string]any{"application": model.Postgres})["job-id"].(string)
	pg2Path := wait(t, s, pg2)["artefact-path"].(string)
	if m := manifestOf(t, s, pg2Path); m.KeyFingerprint != fp2 {
		t.Errorf("backup after the rotation: key %q, want %s", m.KeyFingerprint, fp2)
	}
	list := run("list-backups", map[string]any{"format": "json"})["backups"].(string)
	for _, want := range []string{`"backup-id":"` + pg1 + `"`, `"key-fingerprint":"` + fp1 + `"`, `"key-fingerprint":"` + fp2 + `"`} {
		if !strings.Contains(list, want) {
			t.Errorf("list-backups lacks %s:\n%s", want, list)
		}
	}
	if table := run("list-backups", nil)["backups"].(string); !strings.Contains(table, fp2) {
		t.Errorf("list-backups table lacks %s:\n%s", fp2, table)
	}

	// The manager verifies and reads the log of a backup of either key,
	// from the bucket, with the key its manifest names.
	for _, id := range []string{pg1, pg2, maria1} {
		if v := run("verify-backup", map[string]any{"backup-id": id}); v["verified"] != "1" || v["failed"] != "0" {
			t.Errorf("verify-backup %s: %v", id, v)
		}
		lg := run("show-backup-log", map[string]any{"backup-id": id})
		if lg["complete"] != "true" || strings.Contains(fmt.Sprint(lg["log"]), "DBBK") {
			t.Errorf("show-backup-log %s of an encrypted backup: %v", id, lg)
		}
	}

	// The backups made with the old key restore.
	s.PG.SQL(t, "shop", "DELETE FROM items WHERE id > 10")
	s.Maria.SQL(t, "", "INSERT INTO crm.people VALUES (3,'after the backup')")
	wait(t, s, run("restore", map[string]any{"backup-id": pg1})["job-id"].(string))
	if diff := testenv.DiffSums(pgWant, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("PostgreSQL not restored from the backup of the old key: %v", diff)
	}
	wait(t, s, run("restore", map[string]any{"backup-id": maria1})["job-id"].(string))
	if diff := testenv.DiffSums(mariaWant, s.Maria.Checksums(t, "crm")); len(diff) > 0 {
		t.Errorf("MariaDB not restored from the backup of the old key: %v", diff)
	}

	// The old key dropped: its backup cannot be restored, and the message
	// names the key it needs: the manager's, from the history; once the
	// history is cleared, the agent's, from the manifest. The database is
	// untouched.
	s.Must(s.M.UpdateSecret(uri, map[string]string{"key": forms2[0]}))
	s.Settle()
	s.PG.SQL(t, "shop", "DELETE FROM items WHERE id > 5")
	before := s.PG.Checksums(t, "shop")
	refused(t, s, leader, "restore", map[string]any{"backup-id": pg1}, "is encrypted with the key of fingerprint "+fp1)
	if v, err := s.Run(leader, "verify-backup", map[string]any{"backup-id": pg1, "format": "json"}); err != nil || v.Status != "failed" || !strings.Contains(fmt.Sprint(v.Results["results"]), fp1) {
		t.Errorf("verify-backup of a backup whose key is gone: %v %+v, want failed naming %s", err, v, fp1)
	}
	refused(t, s, leader, "show-backup-log", map[string]any{"backup-id": pg1}, "fingerprint "+fp1)
	run("clear-history", nil)
	rid := run("restore", map[string]any{"backup-id": pg1})["job-id"].(string)
	res, err := s.Wait(rid, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, fmt.Sprint(res))
	if msg := fmt.Sprint(res["message"]); res["status"] != "error" || !strings.Contains(msg, fp1) {
		t.Errorf("restore without its key: %v, want error naming %s", res, fp1)
	}
	if diff := testenv.DiffSums(before, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("the refused restore touched PostgreSQL: %v", diff)
	}

	// A provider that lists its capabilities without encryption-secret.
	agent := s.M.Leader(model.MariaDB)
	cmd := fmt.Sprintf(`relation-set -r database-backup:%d --app 'capabilities=["credentials-secret"]'`, s.Relations[model.MariaDB])
	if r, err := s.M.Exec(s.Ctx, agent, cmd); err != nil || r.Code != 0 {
		t.Fatalf("%s: %v %+v", cmd, err, r)
	}
	s.Settle()
	refused(t, s, leader, "create-backup", map[string]any{"application": model.MariaDB}, "does not advertise encryption-secret")

	// No form of either key anywhere the model records.
	var texts []string
	for _, e := range s.M.Timeline() {
		texts = append(texts, e.Text)
	}
	texts = append(texts, s.M.Status())
	texts = append(texts, outputs...)
	for _, id := range s.Relations {
		for _, owner := range append(append([]string{model.Manager, model.Postgres, model.MariaDB}, s.M.Units(model.Manager)...), append(s.M.Units(model.Postgres), s.M.Units(model.MariaDB)...)...) {
			texts = append(texts, fmt.Sprint(s.M.RelationData(id, owner)))
		}
	}
	for _, u := range append(s.M.Units(model.Postgres), s.M.Units(model.MariaDB)...) {
		log, _ := os.ReadFile(filepath.Join(s.Journal(u).Dir, "runner.log"))
		texts = append(texts, string(log))
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, fp1) {
		t.Errorf("canary check is blind: the fingerprint %s shows nowhere", fp1)
	}
	for _, form := range append(forms1, forms2...) {
		if i := strings.Index(all, form); i >= 0 || bytes.Contains([]byte(all), []byte(form)) {
			t.Errorf("a key leaked: %.120q", all[max(0, i-60):min(len(all), i+60)])
		}
	}
}
