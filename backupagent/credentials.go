package backupagent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// CredentialsSecretKey is the storage-config field of the extension
// "credentials as a Juju secret" (interface/v0/README.md): the URI of a
// Juju secret, granted to this application over the relation, whose
// content holds access-key and secret-key. The job's own access-key and
// secret-key are then dbbackup.Mask.
const CredentialsSecretKey = "credentials-secret"

// SecretGetter reads the content of a Juju secret granted to this unit.
type SecretGetter func(uri string) (map[string]string, error)

// getSecret reads the latest revision of a secret (secret-get --refresh).
func getSecret(uri string) (map[string]string, error) {
	return goops.GetSecretByID(uri, false, true)
}

// ResolveCredentials returns job with the S3 keys it names: when its
// storage-config has credentials-secret, the keys come from that secret
// (read with get); otherwise the job's own keys are used as they are. A job
// whose keys cannot be known (masked with no secret, an unreadable secret,
// a secret without the keys) gets problem: the job's error message, which
// names storage-config.credentials-secret and holds no credential.
func ResolveCredentials(job dbbackup.Job, get SecretGetter) (resolved dbbackup.Job, problem string) {
	raw, has := job.Storage.Extra[CredentialsSecretKey]
	if !has {
		if job.Storage.AccessKey == dbbackup.Mask || job.Storage.SecretKey == dbbackup.Mask {
			return job, "storage-config access-key/secret-key are masked and storage-config." + CredentialsSecretKey +
				" is not set: the job carries no usable S3 credentials"
		}
		return job, ""
	}
	var uri string
	if err := json.Unmarshal(raw, &uri); err != nil || strings.TrimSpace(uri) == "" {
		return job, "storage-config." + CredentialsSecretKey + " is not a secret URI (a non-empty string)"
	}
	uri = strings.TrimSpace(uri)
	content, err := get(uri)
	if err != nil {
		return job, fmt.Sprintf("cannot read the S3 credentials: storage-config.%s %s cannot be read (is it granted to this application?)",
			CredentialsSecretKey, uri)
	}
	ak, sk := content["access-key"], content["secret-key"]
	if ak == "" || sk == "" {
		return job, fmt.Sprintf("cannot read the S3 credentials: the secret storage-config.%s %s has no access-key or secret-key",
			CredentialsSecretKey, uri)
	}
	job.Storage.AccessKey, job.Storage.SecretKey = ak, sk
	return job, ""
}

// submit hands one job to the runner, with its credentials resolved; a
// job whose credentials cannot be resolved is recorded as error at once,
// so that it is reported and never blocks the other jobs.
func (a Agent) submit(job dbbackup.Job, now time.Time) error {
	get := a.GetSecret
	if get == nil {
		get = getSecret
	}
	resolved, problem := ResolveCredentials(job, get)
	if problem == "" {
		resolved, problem = ResolveEncryption(resolved, get)
	}
	if problem == "" {
		_, err := a.Journal.Submit(resolved, now)
		return err
	}
	if _, err := a.Journal.Get(job.ID); err == nil {
		return nil // already in the journal: never overwrite it, nor log again
	}
	goops.LogWarningf("job %s: %s", job.ID, problem)
	_, err := a.Journal.Refuse(job, problem, now)
	return err
}
