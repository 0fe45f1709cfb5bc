package manager

import (
	"bytes"
	"os"
	"os/exec"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// seedNote is what juju status says of a provider that advertises no
// credentials-secret: it gets the seed's format, the keys inline.
const seedNote = "seed format (inline credentials) for "

// capsOf returns the capabilities app's provider advertises in its
// application databag (dbbackup.CapabilitiesKey), read once per hook. A
// provider that advertises none, or an unreadable list, speaks only the
// seed: no extension is used with it.
func (w *world) capsOf(app string) dbbackup.Capabilities {
	if c, ok := w.rel.caps[app]; ok {
		return c
	}
	if w.rel.caps == nil {
		w.rel.caps = map[string]dbbackup.Capabilities{}
	}
	var caps dbbackup.Capabilities
	if id := w.rel.databases[app]; id != "" {
		data, err := goops.GetAppRelationData(id, app)
		if err != nil {
			goops.LogWarningf("cannot read the capabilities of %s: %v; using the seed's format", app, err)
		} else if caps, err = dbbackup.ParseCapabilities(data[dbbackup.CapabilitiesKey]); err != nil {
			goops.LogWarningf("%s advertises unusable capabilities (%s); using the seed's format", app, clipText(secret.Scrub(err.Error(), w.secrets()), 200))
			caps = nil
		}
	}
	w.rel.caps[app] = caps
	return caps
}

// wireFor returns the storage configuration app's jobs carry: the keys
// masked beside the credentials secret's URI (returned too, to grant) for
// a provider that advertises credentials-secret; the keys inline, as the
// seed says, for any other.
func (w *world) wireFor(app string) (dbbackup.StorageConfig, string, error) {
	if !w.capsOf(app).Has(dbbackup.CredentialsSecret) {
		return w.s3.storage, "", nil
	}
	uri, err := w.ensureCredsSecret()
	if err != nil {
		return dbbackup.StorageConfig{}, "", err
	}
	return w.wireStorage(uri), uri, nil
}

// seedOnly returns the related applications whose provider gets the seed's
// format (no credentials-secret advertised), sorted.
func (w *world) seedOnly() []string {
	var out []string
	for _, app := range sortedKeys(w.rel.databases) {
		if !w.capsOf(app).Has(dbbackup.CredentialsSecret) {
			out = append(out, app)
		}
	}
	return out
}

// scrubReport removes every credential the manager knows from what a
// provider wrote that reaches an admin: the message and the artefact-path.
func (w *world) scrubReport(j dbbackup.Job) dbbackup.Job {
	j = j.Redacted()
	j.Message = secret.Scrub(j.Message, w.secrets())
	j.ArtefactPath = secret.Scrub(j.ArtefactPath, w.secrets())
	return j
}

// revokeOnBroken revokes the credentials secret's grant to the relation
// this database-backup-relation-broken hook ends: a provider no longer
// related reads no more credentials. The leader only.
func (w *world) revokeOnBroken() error {
	if !w.leader || w.hook != backupEndpoint+"-relation-broken" {
		return nil
	}
	uri := strings.TrimSpace(w.peer.data[credsSecretKey])
	id := os.Getenv("JUJU_RELATION_ID")
	if uri == "" || id == "" {
		return nil
	}
	var stderr bytes.Buffer
	cmd := exec.Command("secret-revoke", uri, "-r", id)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		// The relation may be gone already; the grant went with it.
		goops.LogWarningf("cannot revoke the credentials secret from relation %s: %s", id, firstLine(stderr.String(), err))
		return nil
	}
	goops.LogInfof("revoked the credentials secret %s from relation %s", uri, id)
	return nil
}
