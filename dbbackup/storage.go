package dbbackup

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

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
	// Credentials are the access-key and secret-key (required, secret),
	// which never print themselves.
	Credentials
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
	c.Credentials = c.Credentials.Redacted()
	return c
}

// String returns c's fields with the credentials masked, so that a
// configuration printed by mistake (%v, %+v, %s, or inside a Job) never
// shows a credential; of the fields this version does not know it shows
// the names only, since one may hold a credential of its own. The fields
// are written one by one: a conversion to a type without methods would
// still carry the embedded Credentials' Format.
func (c StorageConfig) String() string {
	extra := slices.Sorted(maps.Keys(c.Extra))
	return fmt.Sprintf("{Bucket:%s Credentials:%s Path:%s Endpoint:%s Region:%s URIStyle:%s StorageClass:%s TLSCAChain:%d certificates APIVersion:%d Attributes:%q Extra:%v}",
		c.Bucket, c.Credentials, c.Path, c.Endpoint, c.Region, c.URIStyle, c.StorageClass, len(c.TLSCAChain), c.APIVersion, c.Attributes, extra)
}

// GoString is String, for %#v.
func (c StorageConfig) GoString() string { return c.String() }

// Format writes String (quoted for %q) whatever the verb: without it the
// embedded Credentials' Format would print the credentials alone.
func (c StorageConfig) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(c.String()))
		return
	}
	fmt.Fprint(f, c.String())
}

// MarshalJSON writes c as the wire's storage-config object with the
// credentials masked, and the values of the fields this version does not
// know masked too (as String shows only their names); the wire writer
// (MarshalJobs) is the one that sends them.
func (c StorageConfig) MarshalJSON() ([]byte, error) {
	r := c.Redacted()
	if len(r.Extra) > 0 {
		r.Extra = make(map[string]json.RawMessage, len(c.Extra))
		for k := range c.Extra {
			r.Extra[k] = json.RawMessage(strconv.Quote(Mask))
		}
	}
	return storageObject(r)
}
