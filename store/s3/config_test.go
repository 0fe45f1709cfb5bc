package s3

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

func validConfig() dbbackup.StorageConfig {
	return dbbackup.StorageConfig{Bucket: "b", Credentials: dbbackup.Credentials{AccessKey: "AKCANARYCONF", SecretKey: "sk-canary-conf"}, Endpoint: "http://127.0.0.1:9000"}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*dbbackup.StorageConfig)
		want string
	}{
		{"no bucket", func(c *dbbackup.StorageConfig) { c.Bucket = "" }, "bucket is empty"},
		{"no secret", func(c *dbbackup.StorageConfig) { c.SecretKey = "" }, "secret-key is empty"},
		{"uri style", func(c *dbbackup.StorageConfig) { c.URIStyle = "virtual" }, `s3-uri-style "virtual"`},
		{"api version", func(c *dbbackup.StorageConfig) { c.APIVersion = 3 }, "s3-api-version 3"},
		{"attribute", func(c *dbbackup.StorageConfig) { c.Attributes = []string{"novalue"} }, "attribute 1"},
		{"attribute name", func(c *dbbackup.StorageConfig) { c.Attributes = []string{"a=b", "x y=1"} }, "attribute 2"},
		{"scheme", func(c *dbbackup.StorageConfig) { c.Endpoint = "ftp://h" }, `scheme "ftp"`},
		{"endpoint path", func(c *dbbackup.StorageConfig) { c.Endpoint = "https://h/x" }, "has a path"},
		{"endpoint user", func(c *dbbackup.StorageConfig) { c.Endpoint = "https://AKCANARYCONF:sk-canary-conf@h" }, "user information"},
		{"ca not base64", func(c *dbbackup.StorageConfig) { c.TLSCAChain = []string{"%%%"} }, "tls-ca-chain entry 1"},
		{"ca not pem", func(c *dbbackup.StorageConfig) {
			c.TLSCAChain = []string{base64.StdEncoding.EncodeToString([]byte("hello"))}
		}, "holds no PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.edit(&cfg)
			_, err := New(cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "CANARY") || strings.Contains(err.Error(), "canary") {
				t.Errorf("error %q shows a credential", err)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, host, display string
		secure            bool
	}{
		{"", "s3.amazonaws.com", "https://s3.amazonaws.com", true},
		{"http://127.0.0.1:9000", "127.0.0.1:9000", "http://127.0.0.1:9000", false},
		{"https://minio.example:9000/", "minio.example:9000", "https://minio.example:9000", true},
		{"s3.example.com", "s3.example.com", "https://s3.example.com", true},
	}
	for _, tt := range tests {
		host, secure, display, err := parseEndpoint(tt.in)
		if err != nil || host != tt.host || secure != tt.secure || display != tt.display {
			t.Errorf("parseEndpoint(%q) = %q, %v, %q, %v; want %q, %v, %q", tt.in, host, secure, display, err, tt.host, tt.secure, tt.display)
		}
	}
}

func TestOptionsAndPath(t *testing.T) {
	cfg := validConfig()
	cfg.Path = "/a/b/"
	cfg.StorageClass = "REDUCED_REDUNDANCY"
	cfg.Attributes = []string{"x-amz-meta-team=dba", " owner = ops "}
	s, err := New(cfg, Options{PartSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.full("k"), "a/b/k"; got != want {
		t.Errorf("full(k) = %q, want %q", got, want)
	}
	if s.opts.PartSize != minPartSize || s.opts.Concurrency != DefaultConcurrency {
		t.Errorf("options = %+v, want part size %d and concurrency %d", s.opts, minPartSize, DefaultConcurrency)
	}
	if s.put.StorageClass != "REDUCED_REDUNDANCY" || s.put.UserMetadata["owner"] != "ops" || s.put.UserMetadata["x-amz-meta-team"] != "dba" {
		t.Errorf("put options = %+v", s.put)
	}
}

func TestPartSize(t *testing.T) {
	tests := []struct{ base, n, want int }{
		{8, 1, 8}, {8, 1000, 8}, {8, 1001, 16}, {8, 2001, 32}, {8, 9001, 4096}, {8, 10000, 4096},
		// Parts never exceed S3's 5 GiB limit.
		{16 << 20, 9001, 5 << 30}, {8 << 20, 10000, 4 << 30}, {DefaultPartSize, 10000, 5 << 29},
	}
	for _, tt := range tests {
		if got := partSize(tt.base, tt.n); got != tt.want {
			t.Errorf("partSize(%d, %d) = %d, want %d", tt.base, tt.n, got, tt.want)
		}
	}
	total := 0
	for n := 1; n <= maxParts; n++ {
		total += partSize(8, n)
	}
	// 8 MiB parts reach about 8 TiB: 1000 × (8+16+...+4096) MiB.
	if want := 1000 * 8 * 1023; total != want {
		t.Errorf("capacity = %d, want %d", total, want)
	}
	// At the default, 5 MiB parts, an object may reach about 5 TB.
	total = 0
	for n := 1; n <= maxParts; n++ {
		total += partSize(DefaultPartSize, n)
	}
	if want := 1000 * DefaultPartSize * 1023; total != want || DefaultPartSize != minPartSize {
		t.Errorf("capacity at the default = %d, want %d (parts of %d, S3's smallest)", total, want, DefaultPartSize)
	}
}

func TestStringHidesCredentials(t *testing.T) {
	s, err := New(validConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmtS(f, s); strings.Contains(strings.ToLower(got), "canary") {
			t.Errorf("Sprintf(%q) = %q shows a credential", f, got)
		}
	}
}
