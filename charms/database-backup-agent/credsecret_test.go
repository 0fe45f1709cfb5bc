package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// secretJob is a backup whose keys are masked and travel in the Juju
// secret uri (the extension "credentials as a Juju secret"); uri "" leaves
// credentials-secret out.
func (w *world) secretJob(id, uri string) dbbackup.Job {
	j := w.backup(id)
	j.Storage = j.Storage.Redacted()
	if uri != "" {
		b, _ := json.Marshal(uri)
		j.Storage.Extra = map[string]json.RawMessage{"credentials-secret": b}
	}
	return j
}

// TestCredentialsSecret requests jobs whose S3 keys travel as a Juju
// secret: one granted to the agent succeeds; one not granted, one that
// does not exist and masked keys without a secret each get error naming
// storage-config.credentials-secret; the plain v0 jobs beside them succeed
// and no credential shows.
func TestCredentialsSecret(t *testing.T) {
	w, _ := postgresWorld(t, 1)
	keys := map[string]string{"access-key": w.s3.AccessKey, "secret-key": w.s3.SecretKey}
	granted, err := w.m.AddSecret(keys, "agent")
	if err != nil {
		t.Fatal(err)
	}
	notGranted, err := w.m.AddSecret(keys)
	if err != nil {
		t.Fatal(err)
	}
	w.request(w.backup("plain-1"), w.secretJob("via-secret", granted), w.secretJob("not-granted", notGranted),
		w.secretJob("no-such-secret", "secret:d4n0such0secret0here0"), w.secretJob("masked-only", ""), w.backup("plain-2"))
	got := w.wait("plain-1", "via-secret", "not-granted", "no-such-secret", "masked-only", "plain-2")
	for _, id := range []string{"plain-1", "via-secret", "plain-2"} {
		if j := got[id]; j.Status != dbbackup.Success || j.ArtefactPath != "agent/"+id+"/" {
			t.Errorf("%s = %s %q, want success", id, j.Status, j.Message)
		}
	}
	for _, id := range []string{"not-granted", "no-such-secret", "masked-only"} {
		j := got[id]
		t.Logf("%s: %s", id, j.Message)
		if j.Status != dbbackup.Error || !strings.Contains(j.Message, "storage-config.credentials-secret") {
			t.Errorf("%s = %s %q, want error naming storage-config.credentials-secret", id, j.Status, j.Message)
		}
	}
	if st, _ := w.m.UnitStatus("agent/0"); st == "error" {
		t.Errorf("agent/0 in error")
	}
	w.checkNoSecrets()
}
