package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
)

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
