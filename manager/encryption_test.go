package manager

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
)

// The manager's side of encryption through a Juju secret: an unusable
// encryption-secret refuses backups (none is made unencrypted by
// mistake); a usable one puts the key's fingerprint in the history and the
// job, the keys only in the manager's own secret granted to the relation,
// a rotation in a new revision of it; a provider that does not advertise
// encryption-secret is refused; no form of a key shows anywhere.
func TestEncryptionSecretManagerSide(t *testing.T) {
	s := newSim(t, 1)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	k1, k2 := bytes.Repeat([]byte{0x5a}, 32), bytes.Repeat([]byte{0xa5}, 32)
	h1, h2 := hex.EncodeToString(k1), hex.EncodeToString(k2)
	fp1, fp2 := artefact.Fingerprint(k1), artefact.Fingerprint(k2)

	notGranted, err := s.m.AddSecret(map[string]string{"key": h1})
	if err != nil {
		t.Fatal(err)
	}
	noKey, err := s.m.AddSecret(map[string]string{"previous-keys": h1}, "manager")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ uri, want string }{
		{"not-a-uri", "encryption-secret: not a secret URI"},
		{notGranted, "encryption-secret: the secret " + notGranted + " cannot be read: grant it with juju grant-secret"},
		{noKey, `encryption-secret ` + noKey + `: the secret has no "key"`},
	} {
		s.config("manager", map[string]string{"encryption-secret": c.uri})
		s.refused("manager/0", "create-backup", nil, c.want)
		if got := s.status("manager/0"); !strings.HasPrefix(got, "blocked: "+c.want[:min(len(c.want), 60)]) {
			t.Errorf("status with encryption-secret %q = %q", c.uri, got)
		}
	}
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("jobs requested with an unusable encryption-secret: %q", got)
	}

	uri, err := s.m.AddSecret(map[string]string{"key": base64.StdEncoding.EncodeToString(k1)}, "manager")
	if err != nil {
		t.Fatal(err)
	}
	s.config("manager", map[string]string{"encryption-secret": uri})
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	h := s.history()
	if r, _ := h.Find(id); r.KeyFingerprint != fp1 {
		t.Errorf("history key-fingerprint = %q, want %s", r.KeyFingerprint, fp1)
	}
	copyURI := s.peerData()[keysSecretKey]
	content, _, err := s.m.SecretContent(copyURI)
	if err != nil || content["key"] != h1 || len(content) != 1 {
		t.Errorf("the manager's keys secret %q = %d keys, %v; want the key in hex", copyURI, len(content), err)
	}
	// The provider can read it: it was granted over the relation.
	if r, err := s.m.Exec(s.ctx, "pg/0", "secret-get "+copyURI+" key"); err != nil || r.Code != 0 || strings.TrimSpace(r.Stdout) != h1 {
		t.Errorf("pg/0 cannot read the keys secret: %v (code %d)", err, r.Code)
	}
	sent := s.sentJobs()
	for _, want := range []string{`"encryption-secret":"` + copyURI + `"`, `"encryption-key-fingerprint":"` + fp1 + `"`} {
		if !strings.Contains(sent, want) {
			t.Errorf("the job sent lacks %s:\n%s", want, sent)
		}
	}
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": id})["key-fingerprint"]; got != fp1 {
		t.Errorf("show-job key-fingerprint = %v, want %s", got, fp1)
	}
	if table := s.ok("manager/0", "list-backups", nil)["backups"].(string); !strings.Contains(table, fp1) {
		t.Errorf("list-backups lacks the key fingerprint %s:\n%s", fp1, table)
	}

	// Rotation: the copy gets a new revision; the next backup the new key.
	if err := s.m.UpdateSecret(uri, map[string]string{"key": h2, "previous-keys": h1}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	id2 := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	if r, _ := s.history().Find(id2); r.KeyFingerprint != fp2 {
		t.Errorf("after the rotation: key-fingerprint = %q, want %s", r.KeyFingerprint, fp2)
	}
	content, rev, _ := s.m.SecretContent(copyURI)
	if content["key"] != h2 || content["previous-keys"] != h1 || rev != 2 {
		t.Errorf("the keys secret after the rotation: revision %d, %d keys", rev, len(content))
	}
	if got := s.peerData()[keysSecretKey]; got != copyURI {
		t.Errorf("a new keys secret %s replaced %s", got, copyURI)
	}

	// The first key dropped: its backup is refused, naming its fingerprint.
	if err := s.m.UpdateSecret(uri, map[string]string{"key": h2}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.refused("manager/0", "restore", map[string]any{"backup-id": id}, "backup "+id+" is encrypted with the key of fingerprint "+fp1+", which is not in encryption-secret")

	// A provider advertising no encryption-secret (one that advertises
	// nothing speaks only the seed) gets no encrypted backup.
	s.config("pg", map[string]string{"capabilities": `["credentials-secret"]`})
	s.refused("manager/0", "create-backup", nil, `cannot encrypt the backups of pg: its provider does not advertise encryption-secret (it advertises: ["credentials-secret"])`)
	s.config("pg", map[string]string{"capabilities": `[]`})
	s.refused("manager/0", "create-backup", nil, "cannot encrypt the backups of pg: its provider does not advertise encryption-secret (it advertises: nothing)")
	s.config("pg", map[string]string{"capabilities": `["credentials-secret","encryption-secret"]`})
	s.ok("manager/0", "create-backup", nil)

	// Backups stop being encrypted when the option is emptied.
	s.config("manager", map[string]string{"encryption-secret": ""})
	id3 := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	if r, _ := s.history().Find(id3); r.KeyFingerprint != "" {
		t.Errorf("without encryption-secret: key-fingerprint = %q", r.KeyFingerprint)
	}

	var all []string
	for _, e := range s.m.Timeline() {
		all = append(all, e.Text)
	}
	all = append(all, s.m.Status(), fmt.Sprint(s.peerData()), fmt.Sprint(s.m.RelationData(s.rels["pg"], "manager")))
	text := strings.Join(all, "\n")
	if !strings.Contains(text, fp1) {
		t.Errorf("the canary check is blind: %s shows nowhere", fp1)
	}
	for _, k := range [][]byte{k1, k2} {
		for _, form := range []string{hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), string(k)} {
			if i := strings.Index(text, form); i >= 0 {
				t.Errorf("a key shows: %.120q", text[max(0, i-60):min(len(text), i+60)])
			}
		}
	}
}

// sentJobs returns every jobs value the manager wrote, from the timeline.
func (s *sim) sentJobs() string {
	var out []string
	for _, e := range s.m.Timeline() {
		if e.Kind == "data" && strings.Contains(e.Text, "jobs") {
			out = append(out, e.Text)
		}
	}
	return strings.Join(out, "\n")
}
