package backupagent

import (
	"encoding/json"
	"fmt"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// KeysField is the storage-config field of a job in the journal that holds
// its encryption keys (artefact.Keys.Text): the key a backup encrypts with,
// or the keys a restore may need. The agent sets it from the job's
// encryption secret when it submits the job; it is never on the wire (the
// journal file is 0600, as for the S3 keys).
const KeysField = "encryption-keys"

// jobKeys returns the encryption keys the agent recorded for job.
func jobKeys(job dbbackup.Job) (artefact.Keys, error) {
	raw, ok := job.Storage.Extra[KeysField]
	if !ok {
		return nil, nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return nil, fmt.Errorf("cannot read the encryption keys of job %s: not a string", job.ID)
	}
	ks, err := artefact.ParseKeyList(text)
	if err != nil {
		return nil, fmt.Errorf("cannot read the encryption keys of job %s: %w", job.ID, err)
	}
	return ks, nil
}

// restoreKey returns the key that opens backup m (nil for one that is not
// encrypted with AES-256-GCM), or an error naming the fingerprint of the key that is missing.
func restoreKey(job dbbackup.Job, m artefact.Manifest) ([]byte, error) {
	if m.Encryption != artefact.EncryptionAES {
		return nil, nil // artefact.Open refuses what is neither
	}
	ks, err := jobKeys(job)
	if err != nil {
		return nil, err
	}
	if k := ks.ByFingerprint(m.KeyFingerprint); k != nil {
		return k, nil
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("artefact-path: %s is encrypted with the key of fingerprint %s, and the job names no encryption secret: set encryption-secret to a secret holding that key",
			job.ArtefactPath, m.KeyFingerprint)
	}
	return nil, fmt.Errorf("artefact-path: %s is encrypted with the key of fingerprint %s, which is not in the job's encryption secret (it holds %v): add it to previous-keys",
		job.ArtefactPath, m.KeyFingerprint, ks)
}

// jobArchive opens the store of job's storage path (where the scopes'
// log archives are) and reads the job's keys: what a restore to a time
// and the restore_command read the archive with.
func jobArchive(job dbbackup.Job, opts s3.Options) (store.Store, artefact.Keys, error) {
	st, err := s3.New(job.Storage, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("storage-config: %w", err)
	}
	keys, err := jobKeys(job)
	if err != nil {
		return nil, nil, err
	}
	return st, keys, nil
}
