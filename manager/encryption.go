package manager

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// The extension "encryption through a Juju secret" (interface/v0/README.md):
// the admin's secret, named by the encryption-secret option, holds the key
// new backups use and the keys it replaced (artefact.KeysFromSecret). The
// manager copies them into a secret this application owns, granted to each
// database-backup relation whose jobs need it, and names that secret at
// the job's root; a backup's job names the fingerprint of its key too.
const (
	// encryptionSecretField is the job's root field with the URI of the
	// secret holding the keys.
	encryptionSecretField = "encryption-secret"
	// encryptionFingerprintField is the backup job's root field naming
	// the key to encrypt with (artefact.Fingerprint).
	encryptionFingerprintField = "encryption-key-fingerprint"
	// keysSecretKey holds the URI of the manager's copy in the peer
	// application databag.
	keysSecretKey = "encryption-keys-secret"
	// keysSecretLabel labels the copy for a person reading the model.
	keysSecretLabel = "database-backup-encryption-keys"
)

// encState is what the encryption-secret option gives.
type encState struct {
	uri     string        // the admin's secret, "" when backups are not encrypted
	keys    artefact.Keys // its keys, the current one first
	problem string        // why its keys cannot be used (no key shown)
}

// on reports whether new backups are to be encrypted.
func (e encState) on() bool { return e.uri != "" }

// loadEncryption reads the admin's key secret named by encryption-secret
// (its latest revision: a rotation takes effect at the next hook).
func (w *world) loadEncryption() {
	uri := strings.TrimSpace(w.cfg.EncryptionSecret)
	w.enc = encState{uri: uri}
	if uri == "" {
		return
	}
	if !strings.HasPrefix(uri, "secret:") || len(uri) > 200 {
		w.enc.problem = "encryption-secret: not a secret URI (secret:...): set it to the URI juju add-secret printed"
		return
	}
	content, err := goops.GetSecretByID(uri, false, true)
	if err != nil {
		w.enc.problem = fmt.Sprintf("encryption-secret: the secret %s cannot be read: grant it with juju grant-secret %s %s", uri, uri, w.app)
		return
	}
	keys, err := artefact.KeysFromSecret(content)
	clear(content)
	if err != nil {
		w.enc.problem = fmt.Sprintf("encryption-secret %s: %v", uri, err)
		return
	}
	w.enc.keys = keys
}

// keyFingerprint returns the fingerprint of the key a new backup uses,
// "" when backups are not encrypted; an error when they are to be but the
// key cannot be read, so that no backup is made unencrypted by mistake.
func (w *world) keyFingerprint() (string, error) {
	switch {
	case !w.enc.on():
		return "", nil
	case w.enc.problem != "":
		return "", fail("%s", w.enc.problem)
	}
	return artefact.Fingerprint(w.enc.keys.Current()), nil
}

// encryptable refuses to request an encrypted backup of app unless its
// provider advertises encryption-secret (dbbackup.EncryptionSecret): one
// that advertises nothing speaks only the seed, which has no encryption.
func (w *world) encryptable(app string) error {
	if caps := w.capsOf(app); !caps.Has(dbbackup.EncryptionSecret) {
		return fail("cannot encrypt the backups of %s: its provider does not advertise %s (it advertises: %s); unset encryption-secret or upgrade the provider",
			app, dbbackup.EncryptionSecret, advertised(caps))
	}
	return nil
}

// advertised names a capabilities list for a message.
func advertised(caps dbbackup.Capabilities) string {
	if len(caps) == 0 {
		return "nothing"
	}
	return caps.String()
}

// ensureKeysSecret makes the manager's copy hold the admin's current keys
// (a new revision when they changed, a new secret the first time, its
// URI kept in the peer application databag) and returns its URI. The
// leader only; it needs the peer relation.
func (w *world) ensureKeysSecret() (string, error) {
	want := map[string]string{artefact.KeySecretField: artefact.Keys{w.enc.keys.Current()}.Text()}
	if len(w.enc.keys) > 1 {
		want[artefact.PreviousKeysSecretField] = w.enc.keys[1:].Text()
	}
	return w.ensureOwnedSecret(ownedSecret{what: "encryption keys", peerKey: keysSecretKey, label: keysSecretLabel,
		description: "encryption keys of the database backups",
		changed:     fmt.Sprintf("the encryption keys changed (now %s)", strings.Join(w.enc.keys.Fingerprints(), ", "))}, want)
}

// encryptJobs names the keys secret in app's jobs that need it: a backup
// asked to be encrypted (its record has a key fingerprint), and any
// restore while encryption is configured (its backup may be encrypted
// with the current key or a previous one). It returns the jobs to send,
// and the URI to grant ("" when no job names it). A backup to be
// encrypted is held back, with a warning, while its key is not among the
// configured ones or the provider does not understand the extension.
func (w *world) encryptJobs(app string, jobs []dbbackup.Job) ([]dbbackup.Job, string, error) {
	out := jobs[:0:0]
	uri := ""
	keysURI := func() (string, error) {
		if uri == "" {
			var err error
			uri, err = w.ensureKeysSecret()
			return uri, err
		}
		return uri, nil
	}
	for _, j := range jobs {
		r, _ := w.history.Find(j.ID)
		switch {
		case j.Type == dbbackup.Backup && r.KeyFingerprint != "":
			if w.enc.problem != "" || w.enc.keys.ByFingerprint(r.KeyFingerprint) == nil {
				goops.LogWarningf("backup %s of %s waits: its key %s is not in encryption-secret", j.ID, app, r.KeyFingerprint)
				continue
			}
			if caps := w.capsOf(app); !caps.Has(dbbackup.EncryptionSecret) {
				goops.LogWarningf("backup %s of %s waits: its provider does not advertise %s (it advertises: %s)", j.ID, app, dbbackup.EncryptionSecret, advertised(caps))
				continue
			}
			u, err := keysURI()
			if err != nil {
				return nil, "", err
			}
			j = withRoot(j, encryptionSecretField, u)
			j = withRoot(j, encryptionFingerprintField, r.KeyFingerprint)
		case j.Type == dbbackup.Restore && w.enc.on() && w.enc.problem == "":
			if w.capsOf(app).Has(dbbackup.EncryptionSecret) {
				u, err := keysURI()
				if err != nil {
					return nil, "", err
				}
				j = withRoot(j, encryptionSecretField, u)
			}
		}
		out = append(out, j)
	}
	return out, uri, nil
}

// withRoot returns j with a string field at the job's root.
func withRoot(j dbbackup.Job, field, value string) dbbackup.Job {
	j.Extra = maps.Clone(j.Extra)
	if j.Extra == nil {
		j.Extra = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(value)
	j.Extra[field] = b
	return j
}

// newBackup is the record of a new backup of app: encrypted with the
// current key when encryption-secret is set, its fingerprint recorded.
// It refuses when the key cannot be read or the provider cannot encrypt.
func (w *world) newBackup(r requirer.Record) (requirer.Record, error) {
	fp, err := w.keyFingerprint()
	if err != nil {
		return r, err
	}
	if fp != "" {
		if err := w.encryptable(r.Application); err != nil {
			return r, err
		}
	}
	r.KeyFingerprint = fp
	return r, nil
}

// restorableKey refuses the restore of a backup whose record names a key
// that encryption-secret does not hold (any more): the provider could not
// open it. The message names the key's fingerprint, never a key.
func (w *world) restorableKey(r requirer.Record) error {
	fp := r.KeyFingerprint
	switch {
	case fp == "":
		return nil
	case !w.enc.on():
		return fail("backup %s is encrypted with the key of fingerprint %s and encryption-secret is not set: set it to a secret holding that key", r.JobID, fp)
	case w.enc.problem != "":
		return fail("backup %s is encrypted with the key of fingerprint %s: %s", r.JobID, fp, w.enc.problem)
	case w.enc.keys.ByFingerprint(fp) == nil:
		return fail("backup %s is encrypted with the key of fingerprint %s, which is not in encryption-secret %s (it holds %s): put that key back in its previous-keys",
			r.JobID, fp, w.enc.uri, strings.Join(w.enc.keys.Fingerprints(), ", "))
	}
	return nil
}

// keyOf returns the key that opens backup s from the bucket: nil for an
// unencrypted one; for an encrypted one, the key of its fingerprint in
// encryption-secret, else an error naming the fingerprint (what is
// refused says so rather than a generic wrong-key error).
func (w *world) keyOf(s artefact.Summary, what string) ([]byte, error) {
	if s.Encryption == "" || s.Encryption == artefact.EncryptionNone {
		return nil, nil
	}
	if k := w.enc.keys.ByFingerprint(s.KeyFingerprint); k != nil && w.enc.problem == "" {
		return k, nil
	}
	return nil, fail("cannot %s backup %s of %s: it is encrypted with the key of fingerprint %s, which is not in encryption-secret", what, s.JobID, s.Scope, dash(s.KeyFingerprint))
}
