package backupagent

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
)

// The fields of the extension "encryption through a Juju secret"
// (interface/v0/README.md), at the job's root.
const (
	// EncryptionSecretKey is the URI of a Juju secret, granted to this
	// application over the relation, whose content holds the key new
	// backups use ("key") and older ones ("previous-keys").
	EncryptionSecretKey = "encryption-secret"
	// EncryptionFingerprintKey names, in a backup job, the key to
	// encrypt with (artefact.Fingerprint); without it, the secret's "key".
	EncryptionFingerprintKey = "encryption-key-fingerprint"
)

// ResolveEncryption returns job with the encryption keys it names, for the
// runner (KeysField): a backup gets the one key it is to be
// encrypted with, a restore every key of the secret (the backup's
// manifest says which one it needs). A job without encryption-secret is
// returned as it is. A job whose keys cannot be known gets problem: the
// job's error message, which names the field and never a key.
func ResolveEncryption(job dbbackup.Job, get SecretGetter) (resolved dbbackup.Job, problem string) {
	raw, has := job.Extra[EncryptionSecretKey]
	if !has {
		if _, fp := job.Extra[EncryptionFingerprintKey]; fp && job.Type == dbbackup.Backup {
			return job, EncryptionFingerprintKey + " is set and " + EncryptionSecretKey + " is not: the job names no key to encrypt with"
		}
		return job, ""
	}
	var uri string
	if err := json.Unmarshal(raw, &uri); err != nil || strings.TrimSpace(uri) == "" || len(uri) > 200 {
		return job, EncryptionSecretKey + " is not a secret URI (a non-empty string)"
	}
	uri = strings.TrimSpace(uri)
	content, err := get(uri)
	if err != nil {
		return job, fmt.Sprintf("cannot read the encryption keys: %s %s cannot be read (is it granted to this application?)", EncryptionSecretKey, uri)
	}
	keys, err := artefact.KeysFromSecret(content)
	clear(content)
	if err != nil {
		return job, fmt.Sprintf("cannot read the encryption keys: %s %s: %v", EncryptionSecretKey, uri, err)
	}
	if job.Type == dbbackup.Backup {
		key := keys.Current()
		if raw, ok := job.Extra[EncryptionFingerprintKey]; ok {
			var fp string
			if err := json.Unmarshal(raw, &fp); err != nil || len(fp) > 64 {
				return job, EncryptionFingerprintKey + " is not a key fingerprint (a string of 16 hex digits)"
			}
			if key = keys.ByFingerprint(fp); key == nil {
				return job, fmt.Sprintf("cannot encrypt: the key of fingerprint %s is not in %s %s (it holds %v)", fp, EncryptionSecretKey, uri, keys)
			}
		}
		keys = artefact.Keys{key}
	}
	b, _ := json.Marshal(keys.Text())
	job.Storage.Extra = maps.Clone(job.Storage.Extra)
	if job.Storage.Extra == nil {
		job.Storage.Extra = map[string]json.RawMessage{}
	}
	job.Storage.Extra[KeysField] = b
	return job, ""
}
