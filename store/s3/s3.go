// Package s3 is the store.Store backend for S3 and S3-compatible servers,
// configured by the s3 interface's fields (dbbackup.StorageConfig). It
// streams uploads in parts of bounded size, retries transient failures with
// backoff, and never puts credentials in its errors.
package s3

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/store"
)

var _ store.Store = (*Store)(nil)
var _ store.PrefixDeleter = (*Store)(nil)

// Defaults of Options.
const (
	DefaultPartSize    = 5 << 20
	DefaultConcurrency = 2
	DefaultIdleTimeout = 60 * time.Second
	minPartSize        = 5 << 20
	maxParts           = 10000
	maxPartSize        = 5 << 30
	awsEndpoint        = "s3.amazonaws.com"
)

// Options tunes the client; the zero value uses the defaults.
type Options struct {
	// PartSize is the size of the first multipart-upload parts (at least
	// 5 MiB, the default: S3's smallest part, for the smallest memory).
	// Parts double in size every 1,000 parts (up to 5 GiB), so that an
	// upload may reach about 5 TB at the default within S3's 10,000-part
	// limit while its memory stays at Concurrency+1 parts of 5 MiB for any
	// object under 5 GB.
	PartSize int
	// Concurrency is the number of parts uploaded at once. An upload holds
	// at most Concurrency+1 parts in memory.
	Concurrency int
	// Sequential reads the next part only once the part before it is
	// stored: one part in memory and one request at a time (Concurrency
	// is then 1), for a process that must stay small rather than fast.
	Sequential bool
	// IdleTimeout drops a connection on which no byte moves for this long,
	// so that a stalled server becomes a retried error instead of a hang.
	IdleTimeout time.Duration
	// Backoff is the retry policy of each request; the zero value means
	// store.DefaultBackoff.
	Backoff store.Backoff
}

// ArchiverOptions are the options of a log archiver, which runs for months
// beside the database: one upload at a time of the smallest parts S3
// takes, each read only once the one before is stored, keeps it small (it
// holds one 5 MiB part at most).
func ArchiverOptions() Options { return Options{PartSize: 5 << 20, Concurrency: 1, Sequential: true} }

// Store is an S3 bucket, or the part of it under the configured path.
type Store struct {
	core     minio.Core
	bucket   string
	prefix   string // the configured Path, normalised to "" or "dir/"
	endpoint string // for messages: scheme://host[:port], no user info
	secrets  []string
	put      minio.PutObjectOptions
	opts     Options
}

// New returns a store for cfg. It checks the configuration but does not
// contact the server.
func New(cfg dbbackup.StorageConfig, opts Options) (*Store, error) {
	s, err := newStore(cfg, opts)
	if err != nil {
		return nil, &store.Error{Op: "configure s3 storage", Bucket: cfg.Bucket, Err: err, Permanent: true}
	}
	return s, nil
}

// NewRoot returns a store for cfg rooted at the bucket's root, whatever
// path cfg names: the one way to open the store an artefact-path (which
// holds the storage path already) is read from.
func NewRoot(cfg dbbackup.StorageConfig, opts Options) (*Store, error) {
	cfg.Path = ""
	return New(cfg, opts)
}

func newStore(cfg dbbackup.StorageConfig, opts Options) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("bucket is empty")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("access-key or secret-key is empty")
	}
	opts = withDefaults(opts)
	host, secure, display, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	lookup, err := bucketLookup(cfg.URIStyle)
	if err != nil {
		return nil, err
	}
	creds, err := signer(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := parseAttributes(cfg.Attributes)
	if err != nil {
		return nil, err
	}
	tr, err := newTransport(cfg.TLSCAChain, opts.IdleTimeout)
	if err != nil {
		return nil, err
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    tr,
		MaxRetries:   1, // Backoff retries, bounded and testable.
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", display, err)
	}
	return &Store{
		core:     minio.Core{Client: c},
		bucket:   cfg.Bucket,
		prefix:   normalisePath(cfg.Path),
		endpoint: display,
		secrets:  cfg.Secrets(),
		put:      minio.PutObjectOptions{StorageClass: cfg.StorageClass, UserMetadata: meta, DisableContentSha256: true},
		opts:     opts,
	}, nil
}

func withDefaults(o Options) Options {
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	o.PartSize = max(o.PartSize, minPartSize)
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Sequential {
		o.Concurrency = 1
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Backoff.Attempts == 0 {
		o.Backoff = store.DefaultBackoff
	}
	return o
}

// parseEndpoint splits an endpoint URL into the host minio-go wants, whether
// it uses TLS, and the form shown in messages. No endpoint means AWS; an
// endpoint without a scheme means https.
func parseEndpoint(endpoint string) (host string, secure bool, display string, err error) {
	if endpoint == "" {
		return awsEndpoint, true, "https://" + awsEndpoint, nil
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false, "", errors.New("endpoint is not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", false, "", fmt.Errorf("endpoint scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return "", false, "", errors.New("endpoint has no host")
	case u.User != nil:
		return "", false, "", errors.New("endpoint must not carry user information; use access-key and secret-key")
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "":
		return "", false, "", fmt.Errorf("endpoint %s://%s has a path or query; put the key prefix in path", u.Scheme, u.Host)
	}
	return u.Host, u.Scheme == "https", u.Scheme + "://" + u.Host, nil
}

func bucketLookup(style string) (minio.BucketLookupType, error) {
	switch style {
	case "":
		return minio.BucketLookupAuto, nil
	case "path":
		return minio.BucketLookupPath, nil
	case "host":
		return minio.BucketLookupDNS, nil
	}
	return 0, fmt.Errorf("s3-uri-style %q is not path or host", style)
}

func signer(cfg dbbackup.StorageConfig) (*credentials.Credentials, error) {
	switch cfg.APIVersion {
	case 0, 4:
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), nil
	case 2:
		return credentials.NewStaticV2(cfg.AccessKey, cfg.SecretKey, ""), nil
	}
	return nil, fmt.Errorf("s3-api-version %d is not 2 or 4", cfg.APIVersion)
}

// parseAttributes turns "Name=value" attributes into the headers sent with
// every object written. Names that are not standard or x-amz- headers are
// sent as x-amz-meta-<name> user metadata by the client library.
func parseAttributes(attrs []string) (map[string]string, error) {
	if len(attrs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(attrs))
	for i, a := range attrs {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n:") {
			return nil, fmt.Errorf("attribute %d is not Name=value with a header name", i+1)
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("attribute %s has a line break in its value", name)
		}
		m[name] = strings.TrimSpace(value)
	}
	return m, nil
}

func normalisePath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// full maps a relative key to the bucket's key.
func (s *Store) full(key string) string { return s.prefix + key }

// String describes the store without its credentials, as
// "s3://bucket/path at endpoint".
func (s *Store) String() string {
	return "s3://" + s.bucket + "/" + s.prefix + " at " + s.endpoint
}

// GoString is String, so that %#v shows no credential either.
func (s *Store) GoString() string { return s.String() }
