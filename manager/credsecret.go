package manager

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// The extension "credentials as a Juju secret" (interface/v0/README.md):
// the S3 keys travel in a Juju secret this application owns, granted to
// each database-backup relation; a job's storage-config carries masked
// keys and the secret's URI.
const (
	// credentialsSecretField is the storage-config field with the URI.
	credentialsSecretField = "credentials-secret"
	// credsSecretKey holds the URI in the peer application databag.
	credsSecretKey = "credentials-secret"
	// credsSecretLabel labels the secret for a person reading the model.
	credsSecretLabel = "database-backup-s3-credentials"
)

// ensureCredsSecret makes the credentials secret hold the current S3
// keys (a new revision when they changed; a new secret the first time,
// its URI kept in the peer application databag) and returns its URI. The
// leader only; it needs the peer relation.
func (w *world) ensureCredsSecret() (string, error) {
	want := map[string]string{"access-key": w.s3.storage.AccessKey, "secret-key": w.s3.storage.SecretKey}
	return w.ensureOwnedSecret(ownedSecret{what: "credentials", peerKey: credsSecretKey, label: credsSecretLabel,
		description: "S3 credentials of the database backups", changed: "the S3 credentials changed"}, want)
}

// ownedSecret names one secret the leader owns: what it holds (for
// messages), the peer application key that keeps its URI, its label and
// description, and what to log when its content changes.
type ownedSecret struct {
	what, peerKey, label, description, changed string
}

// ensureOwnedSecret makes secret s hold want: a new revision when its
// content differs, a new secret the first time or when it is gone, its
// URI kept in the peer application databag. It returns the URI. The
// leader only; it needs the peer relation.
func (w *world) ensureOwnedSecret(s ownedSecret, want map[string]string) (string, error) {
	if w.peer.id == "" {
		return "", fmt.Errorf("cannot keep the %s secret: the peer relation does not exist yet", s.what)
	}
	uri := strings.TrimSpace(w.peer.data[s.peerKey])
	if uri != "" {
		have, err := goops.GetSecretByID(uri, false, false)
		switch {
		case err == nil && maps.Equal(have, want):
			return uri, nil
		case err == nil:
			if err := secretTool("secret-set", uri, want); err != nil {
				return "", err
			}
			goops.LogInfof("%s: new revision of secret %s", s.changed, uri)
			return uri, nil
		case !strings.Contains(err.Error(), "not found"):
			return "", fmt.Errorf("cannot read the %s secret %s: %w", s.what, uri, err)
		}
		goops.LogWarningf("the %s secret %s is gone: adding a new one", s.what, uri)
	}
	out, err := secretToolOutput("secret-add", "", want, "--label", s.label, "--description", s.description)
	if err != nil {
		return "", err
	}
	uri = strings.TrimSpace(out)
	if err := setAppData(w.peer.id, map[string]string{s.peerKey: uri}); err != nil {
		return "", err
	}
	w.peer.data[s.peerKey] = uri
	return uri, nil
}

// wireStorage is the storage configuration written into the jobs: the
// keys masked and the credentials secret's URI beside them.
func (w *world) wireStorage(uri string) dbbackup.StorageConfig {
	cfg := w.s3.storage.Redacted()
	cfg.Extra = maps.Clone(cfg.Extra)
	if cfg.Extra == nil {
		cfg.Extra = map[string]json.RawMessage{}
	}
	b, _ := json.Marshal(uri)
	cfg.Extra[credentialsSecretField] = b
	return cfg
}

// grantCredsSecret lets the application on relation id read the secret.
func grantCredsSecret(uri, id string) error {
	var stderr bytes.Buffer
	cmd := exec.Command("secret-grant", uri, "-r", id)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot grant secret %s to relation %s: %s", uri, id, firstLine(stderr.String(), err))
	}
	return nil
}

// secretTool runs secret-add or secret-set (uri "" for secret-add) with
// content passed as key#file=path, so that no value is on a command line.
func secretTool(tool, uri string, content map[string]string) error {
	_, err := secretToolOutput(tool, uri, content)
	return err
}

// secretToolOutput is secretTool returning the tool's output; meta are
// further arguments (secret-add's --label and --description).
func secretToolOutput(tool, uri string, content map[string]string, meta ...string) (string, error) {
	dir, err := os.MkdirTemp("", "dbbackup-secret-")
	if err != nil {
		return "", fmt.Errorf("cannot write a secret: %w", err)
	}
	defer os.RemoveAll(dir)
	var args []string
	if uri != "" {
		args = append(args, uri)
	}
	for _, k := range sortedKeys(content) {
		path := filepath.Join(dir, k)
		if err := os.WriteFile(path, []byte(content[k]), 0o600); err != nil {
			return "", fmt.Errorf("cannot write a secret: %w", err)
		}
		args = append(args, k+"#file="+path)
	}
	args = append(args, meta...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tool, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cannot write a secret (%s): %s", tool, firstLine(stderr.String(), err))
	}
	return stdout.String(), nil
}
