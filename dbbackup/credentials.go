package dbbackup

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Credentials are the S3 keys of a storage configuration. They never print
// themselves: String, GoString, Format (every verb, so also inside a
// struct printed with %v, %+v or %#v) and MarshalJSON show Mask for a key
// that is set and nothing for one that is not. Code that must send a key
// (the S3 client, the wire writer) reads the field itself.
//
// fmt reaches a value's methods only through exported fields: a struct
// holding Credentials in an unexported field prints them raw, so such a
// struct needs its own String (as StorageConfig has).
type Credentials struct {
	// AccessKey is the S3 access key (required, secret).
	AccessKey string
	// SecretKey is the S3 secret key (required, secret).
	SecretKey string
}

// Redacted returns a copy of c whose keys are replaced by Mask. Empty keys
// stay empty, so a missing key still shows as missing.
func (c Credentials) Redacted() Credentials {
	if c.AccessKey != "" {
		c.AccessKey = Mask
	}
	if c.SecretKey != "" {
		c.SecretKey = Mask
	}
	return c
}

// Secrets returns the keys of c that are set, for the guard that scrubs
// text and errors before they leave the process (secret.Scrub and
// secret.Guard).
func (c Credentials) Secrets() []string {
	var s []string
	for _, v := range []string{c.AccessKey, c.SecretKey} {
		if v != "" && v != Mask {
			s = append(s, v)
		}
	}
	return s
}

// String returns the keys masked: "{AccessKey:*** SecretKey:***}".
func (c Credentials) String() string {
	r := c.Redacted()
	return "{AccessKey:" + r.AccessKey + " SecretKey:" + r.SecretKey + "}"
}

// GoString returns the keys masked, as Go syntax.
func (c Credentials) GoString() string {
	r := c.Redacted()
	return "dbbackup.Credentials{AccessKey:" + strconv.Quote(r.AccessKey) + ", SecretKey:" + strconv.Quote(r.SecretKey) + "}"
}

// Format writes the keys masked whatever the verb: GoString for %#v, a
// quoted String for %q, String for every other verb.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, c.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(c.String()))
	default:
		fmt.Fprint(f, c.String())
	}
}

// MarshalJSON writes the keys masked, with the s3 interface's names:
// {"access-key":"***","secret-key":"***"}.
func (c Credentials) MarshalJSON() ([]byte, error) {
	r := c.Redacted()
	return json.Marshal(map[string]string{"access-key": r.AccessKey, "secret-key": r.SecretKey})
}
