package dbbackup

import (
	"encoding/json"
	"fmt"
	"github.com/dbbackup/dbbackup/internal/secret"
)

// Mask replaces a credential wherever this project republishes or prints a
// storage configuration. It is a valid string for the v0 schemas, so masked
// reports stay schema-valid.
const Mask = secret.Mask

// StorageConfig is the storage configuration of one job: the fields of the
// s3 interface's provider data (v0), normalised. See Normalisation rules in
// interface/v0/README.md for the shapes accepted on the wire.
type StorageConfig struct {
	// Bucket is the bucket name (required).
	Bucket string
	// AccessKey is the S3 access key (required, secret).
	AccessKey string
	// SecretKey is the S3 secret key (required, secret).
	SecretKey string
	// Path is the key prefix inside the bucket.
	Path string
	// Endpoint is the S3 endpoint URL, http or https; empty means AWS.
	Endpoint string
	// Region is the S3 region.
	Region string
	// URIStyle is "path", "host" or empty (the client's default).
	URIStyle string
	// StorageClass is the storage class of uploaded objects.
	StorageClass string
	// TLSCAChain holds the base64-encoded PEM CA certificates to trust.
	TLSCAChain []string
	// APIVersion is the S3 signature version, 2 or 4; 0 means unset.
	APIVersion int
	// Attributes are custom metadata headers, each "Name=value".
	Attributes []string
	// Extra holds the fields this version does not know, as compact JSON,
	// so that a read-modify-write never loses another implementation's keys.
	Extra map[string]json.RawMessage
}

// Redacted returns a copy of c whose credentials are replaced by Mask.
// Empty credentials stay empty, so a missing key still shows as missing.
func (c StorageConfig) Redacted() StorageConfig {
	if c.AccessKey != "" {
		c.AccessKey = Mask
	}
	if c.SecretKey != "" {
		c.SecretKey = Mask
	}
	return c
}

// Secrets returns the credential values of c that are set, for callers that
// scrub text before it leaves the process.
func (c StorageConfig) Secrets() []string {
	var s []string
	for _, v := range []string{c.AccessKey, c.SecretKey} {
		if v != "" && v != Mask {
			s = append(s, v)
		}
	}
	return s
}

// redactedConfig has StorageConfig's fields without its methods, for String.
type redactedConfig StorageConfig

// String returns c's fields with the credentials masked, so that a
// configuration printed by mistake (%v, %+v, %s, or inside a Job) never
// shows a credential.
func (c StorageConfig) String() string {
	return fmt.Sprintf("%+v", redactedConfig(c.Redacted()))
}

// GoString is String, for %#v.
func (c StorageConfig) GoString() string { return c.String() }
