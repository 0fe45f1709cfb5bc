package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// s3Side is what the s3 relation gives: the storage configuration, or
// why there is none usable.
type s3Side struct {
	id      string // the s3 relation, "" when not related
	data    map[string]string
	storage dbbackup.StorageConfig
	problem string // why storage is unusable, "" when usable
	// fromSecret is true when the credentials came from a v1 secret.
	fromSecret bool
}

// The s3 interface's keys this charm reads or writes.
const (
	// secretExtraKey holds, in v1, the Juju secret with the credentials.
	secretExtraKey = "secret-extra"
	// requestedSecretsKey is written by the requirer in v1.
	requestedSecretsKey = "requested-secrets"
	// requestedSecrets asks for the credentials as a Juju secret.
	requestedSecrets = `["access-key","secret-key"]`
)

// s3Skip are keys of the s3-integrator's databag that are not storage
// configuration.
var s3Skip = map[string]bool{
	secretExtraKey: true, "lib-version": true, "data": true, requestedSecretsKey: true,
	"secret-user": true, "secret-tls": true, "delete-older-than-days": true,
}

// storageFrom builds the storage configuration from the s3 provider's
// application databag (v0: every field in plain text; values may be JSON
// encoded, as data-platform-libs writes lists and numbers) and the content
// of its secret-extra secret (v1), which wins for the keys it holds. It
// returns the missing required fields, or the problems of the fields, as a
// message without any value.
func storageFrom(data, content map[string]string) (dbbackup.StorageConfig, string) {
	obj := map[string]json.RawMessage{}
	add := func(k, v string) {
		if v == "" || s3Skip[k] {
			return
		}
		obj[k] = decodeValue(k, v)
	}
	for _, k := range sortedKeys(data) {
		add(k, data[k])
	}
	for _, k := range sortedKeys(content) {
		add(k, content[k])
	}
	var missing []string
	for _, k := range []string{"bucket", "access-key", "secret-key"} {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return dbbackup.StorageConfig{}, "s3-integrator has not sent " + strings.Join(missing, ", ")
	}
	text, err := json.Marshal(obj)
	if err != nil {
		return dbbackup.StorageConfig{}, "cannot read the s3 credentials"
	}
	cfg, problems := dbbackup.ParseStorageConfig(text)
	if len(problems) > 0 {
		var paths []string
		for _, p := range problems {
			paths = append(paths, fmt.Sprintf("%s: %s", p.Path, p.Msg))
		}
		return dbbackup.StorageConfig{}, secret.Scrub("invalid s3 configuration: "+strings.Join(paths, "; "), cfg.Secrets())
	}
	return cfg, ""
}

// listKeys are the s3 fields that are lists: data-platform-libs writes them
// as JSON-encoded strings; the s3 README shows attributes ';'-joined.
var listKeys = map[string]bool{"tls-ca-chain": true, "attributes": true}

// decodeValue turns one databag value into the JSON value of its field:
// JSON lists and numbers as they are, quoted JSON strings unquoted, any
// other text as a string.
func decodeValue(key, v string) json.RawMessage {
	t := strings.TrimSpace(v)
	if json.Valid([]byte(t)) && t != "" {
		switch t[0] {
		case '[':
			if listKeys[key] {
				return json.RawMessage(t)
			}
		case '"':
			var s string
			if json.Unmarshal([]byte(t), &s) == nil {
				return decodeValue(key, s)
			}
		default:
			if key == "s3-api-version" {
				return json.RawMessage(t)
			}
		}
	}
	b, _ := json.Marshal(v)
	return b
}

// loadS3 reads the credentials of the s3 relation (v0 fields, v1 secret).
func (w *world) loadS3() error {
	ids, err := goops.GetRelationIDs(s3Endpoint)
	if err != nil {
		return fmt.Errorf("cannot list the %s relation: %w", s3Endpoint, err)
	}
	if len(ids) == 0 {
		w.s3.problem = "no s3 credentials: integrate with an s3-integrator"
		return nil
	}
	w.s3.id = ids[0]
	app, err := goops.GetRelationApp(w.s3.id)
	if err != nil || app == "" {
		w.s3.problem = "no s3 credentials: waiting for the s3-integrator"
		return nil
	}
	if w.s3.data, err = goops.GetAppRelationData(w.s3.id, app); err != nil {
		return fmt.Errorf("cannot read the s3 relation: %w", err)
	}
	var secret map[string]string
	if uri := strings.TrimSpace(w.s3.data[secretExtraKey]); uri != "" {
		secret, err = goops.GetSecretByID(uri, false, true)
		if err != nil {
			w.s3.problem = "no s3 credentials: cannot read the s3-integrator's secret " + uri
			return nil
		}
		w.s3.fromSecret = true
	}
	cfg, problem := storageFrom(w.s3.data, secret)
	if problem != "" {
		w.s3.problem = "no s3 credentials: " + problem
		return nil
	}
	w.s3.storage = cfg
	return nil
}

// requestSecrets writes the v1 requirer fields on the s3 relation, which a
// v0 provider ignores.
func (w *world) requestSecrets() error {
	if w.s3.id == "" {
		return nil
	}
	have, err := goops.GetAppRelationData(w.s3.id, w.app)
	if err != nil {
		return fmt.Errorf("cannot read this application's s3 relation data: %w", err)
	}
	want := map[string]string{requestedSecretsKey: requestedSecrets, "lib-version": "1"}
	if ch := changedKeys(have, want, requestedSecretsKey, "lib-version"); len(ch) > 0 {
		return setAppData(w.s3.id, ch)
	}
	return nil
}

// probeTimeout bounds a check of the bucket.
const probeTimeout = 10 * time.Second

// probe lists one key of the bucket with the credentials and records the
// outcome; it returns the error for an action to show.
func (w *world) probe() error {
	if w.s3.problem != "" {
		w.peer.check = s3Check{OK: true}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	err := checkBucket(ctx, w.s3.storage)
	if err == nil {
		w.peer.check = s3Check{OK: true}
		return nil
	}
	msg := secret.Guard(err, w.secrets()).Error()
	short := msg
	var se *store.Error
	if errors.As(err, &se) && se.Hint != "" {
		short = fmt.Sprintf("%s at %s: %s", se.Bucket, se.Endpoint, se.Hint)
	}
	w.peer.check = s3Check{OK: false, Short: short, Message: msg, At: w.now.Format(time.RFC3339)}
	goops.LogWarningf("the bucket does not answer: %s", msg)
	return errors.New(msg)
}

// checkBucket lists at most one key of the storage's bucket.
func checkBucket(ctx context.Context, cfg dbbackup.StorageConfig) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	for _, err := range st.List(ctx, "", store.ListOptions{}) {
		if err != nil {
			return fmt.Errorf("cannot list bucket %s: %w", cfg.Bucket, err)
		}
		break
	}
	return nil
}

// openStore opens the bucket for the manager's short reads: two tries,
// as an action or a hook must answer in seconds.
func openStore(cfg dbbackup.StorageConfig) (*s3.Store, error) {
	st, err := s3.New(cfg, storeOptions)
	if err != nil {
		return nil, fmt.Errorf("cannot use the s3 configuration: %w", err)
	}
	return st, nil
}

// storeOptions retry little: a hook must not hang on a dead endpoint.
var storeOptions = s3.Options{Backoff: store.Backoff{Attempts: 2, Initial: 200 * time.Millisecond, Max: time.Second}}

// openRoot is openStore rooted at the bucket's root, where artefact-paths
// start.
func openRoot(cfg dbbackup.StorageConfig) (*s3.Store, error) {
	st, err := s3.NewRoot(cfg, storeOptions)
	if err != nil {
		return nil, fmt.Errorf("cannot use the s3 configuration: %w", err)
	}
	return st, nil
}
