package s3

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/store"
)

// fail wraps err from operation op on key into a *store.Error naming the
// bucket and endpoint, classified permanent or transient, with any
// credential masked out of its text.
func (s *Store) fail(op, key string, err error) error {
	if err == nil {
		return nil
	}
	var se *store.Error
	if errors.As(err, &se) {
		return err
	}
	e := &store.Error{Op: op, Bucket: s.bucket, Endpoint: s.endpoint, Key: key}
	e.Permanent, e.Hint = classify(err)
	if errors.Is(err, store.ErrNotFound) {
		e.Err = err
	} else if code := errResponse(err).Code; code == "NoSuchKey" || code == "NotFound" {
		e.Err, e.Permanent, e.Hint = store.ErrNotFound, true, ""
	} else {
		e.Err = scrub(err, s.secrets)
	}
	return e
}

// classify tells whether err is permanent and what the user should check.
func classify(err error) (permanent bool, hint string) {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var dnsErr *net.DNSError
	var srcErr *sourceError
	switch {
	case errors.As(err, &srcErr):
		return true, ""
	case errors.As(err, &unknownCA), errors.As(err, &hostname):
		return true, "check tls-ca-chain and the endpoint's certificate"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return true, "check the endpoint's host name and s3-uri-style"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return true, "the endpoint speaks http, not https"
	}
	resp := errResponse(err)
	switch resp.Code {
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "XAdminUserNotFound", "AuthorizationHeaderMalformed", "InvalidRequest":
		return true, "check access-key, secret-key, region and s3-api-version"
	case "NoSuchBucket":
		return true, "check that the bucket exists"
	case "InvalidStorageClass":
		return true, "check storage-class"
	case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed":
		return false, ""
	}
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
		return false, ""
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return true, "check access-key, secret-key, region and s3-api-version"
	case resp.StatusCode >= 400:
		return true, ""
	}
	return false, ""
}

// scrub masks the credentials in err's text (secret.Guard, which keeps the
// chain for errors.Is and errors.As) and names the server's error code
// when the text does not.
func scrub(err error, secrets []string) error {
	g := secret.Guard(err, secrets)
	if resp := errResponse(err); resp.Code != "" && !strings.Contains(g.Error(), resp.Code) {
		return fmt.Errorf("%w (%s)", g, resp.Code)
	}
	return g
}

// errResponse returns the server's error answer in err's chain, or the
// zero value.
func errResponse(err error) minio.ErrorResponse {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp
	}
	return minio.ToErrorResponse(err)
}
