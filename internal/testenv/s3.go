package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"strconv"

	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// S3Region is the region every test S3 server is started with.
const S3Region = "us-east-1"

// s3ReadyTimeout bounds how long a server may take to answer its first
// request; MinIO's first start formats its data folder.
const s3ReadyTimeout = 60 * time.Second

// S3Server is a real S3 server a test started on 127.0.0.1; t.Cleanup stops
// it. Its credentials are random per start, so tests can grep for them.
type S3Server struct {
	// Name is the server program: "versitygw" or "minio".
	Name string
	// Endpoint is the server's URL, such as http://127.0.0.1:40123.
	Endpoint string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Region is the region the server answers for.
	Region string
	// CAChain holds the base64-encoded PEM of the CA that signed the
	// server's certificate, for a TLS server; nil otherwise.
	CAChain []string
	// VirtualDomain is the base domain of host-style addressing when the
	// server was started with it ("localhost"); empty otherwise.
	VirtualDomain string
	// LogPath is the file holding the server's output.
	LogPath string

	caPool *x509.CertPool
}

// S3Options tunes a server start.
type S3Options struct {
	// TLS serves HTTPS with a certificate signed by a CA made for this test.
	TLS bool
	// VirtualHost enables host-style bucket addressing under "localhost"
	// (bucket.localhost:port); clients must dial 127.0.0.1 for such names.
	VirtualHost bool
}

// StartVersityGW starts versitygw with a posix backend on a temporary
// folder, over plain HTTP.
func StartVersityGW(t T) *S3Server {
	t.Helper()
	return StartVersityGWWith(t, S3Options{})
}

// StartVersityGWWith starts versitygw with the given options.
func StartVersityGWWith(t T, opts S3Options) *S3Server {
	t.Helper()
	bin := findBinary(t, "versitygw")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sidecar := filepath.Join(dir, "meta")
	for _, d := range []string{data, sidecar} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("cannot create versitygw folder: %v", err)
		}
	}
	s := newS3Server("versitygw", dir)
	port := freePort(t)
	args := []string{"--port", "127.0.0.1:" + port, "--region", s.Region, "--quiet"}
	scheme := "http"
	if opts.TLS {
		certFile, keyFile := s.makeCerts(t, dir)
		args = append(args, "--cert", certFile, "--key", keyFile)
		scheme = "https"
	}
	if opts.VirtualHost {
		s.VirtualDomain = "localhost"
		args = append(args, "--virtual-domain", s.VirtualDomain)
	}
	args = append(args, "posix", "--sidecar", sidecar, data)
	// Credentials go through the environment, never the command line.
	env := []string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey}
	s.Endpoint = scheme + "://127.0.0.1:" + port
	s.start(t, bin, args, env, "/")
	return s
}

// StartMinIO starts a single-drive MinIO server on a temporary folder.
func StartMinIO(t T) *S3Server {
	t.Helper()
	bin := findBinary(t, "minio")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatalf("cannot create minio folder: %v", err)
	}
	s := newS3Server("minio", dir)
	port, console := freePort(t), freePort(t)
	args := []string{"server", "--quiet", "--address", "127.0.0.1:" + port, "--console-address", "127.0.0.1:" + console, data}
	env := []string{
		"MINIO_ROOT_USER=" + s.AccessKey, "MINIO_ROOT_PASSWORD=" + s.SecretKey,
		"MINIO_REGION=" + s.Region, "MINIO_BROWSER=off", "MINIO_UPDATE=off",
		"MINIO_CI_CD=1", "HOME=" + dir,
	}
	s.Endpoint = "http://127.0.0.1:" + port
	s.start(t, bin, args, env, "/minio/health/ready")
	return s
}

func newS3Server(name, dir string) *S3Server {
	return &S3Server{
		Name:      name,
		AccessKey: "AKCANARY" + strings.ToUpper(randomHex(6)),
		SecretKey: "sk-canary-" + randomHex(15),
		Region:    S3Region,
		LogPath:   filepath.Join(dir, name+".log"),
	}
}

// StorageConfig returns the s3 interface configuration that reaches bucket
// on this server, in path style.
func (s *S3Server) StorageConfig(bucket string) dbbackup.StorageConfig {
	return dbbackup.StorageConfig{
		Bucket:      bucket,
		Credentials: dbbackup.Credentials{AccessKey: s.AccessKey, SecretKey: s.SecretKey},
		Endpoint:    s.Endpoint,
		Region:      s.Region,
		URIStyle:    "path",
		TLSCAChain:  s.CAChain,
	}
}

// CreateBucket creates bucket on the server, failing the test if it cannot.
func (s *S3Server) CreateBucket(t T, bucket string) {
	t.Helper()
	c, err := s.client()
	if err != nil {
		t.Fatalf("cannot make a client for %s: %v", s.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("cannot create bucket %q on %s at %s: %v%s", bucket, s.Name, s.Endpoint, err, s.logTail())
	}
}

func (s *S3Server) client() (*minio.Client, error) {
	host, secure := strings.CutPrefix(s.Endpoint, "https://")
	host = strings.TrimPrefix(host, "http://")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.caPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.caPool, MinVersion: tls.VersionTLS12}
	}
	return minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       secure,
		Region:       s.Region,
		Transport:    tr,
		BucketLookup: minio.BucketLookupPath,
	})
}

func (s *S3Server) start(t T, bin string, args, env []string, readyPath string) {
	t.Helper()
	logf, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatalf("cannot create %s log: %v", s.Name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("cannot start %s: %v", s.Name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { stop(cmd, exited) })
	if err := s.waitReady(readyPath, exited); err != nil {
		t.Fatalf("%s at %s did not become ready: %v%s", s.Name, s.Endpoint, err, s.logTail())
	}
}

func stop(cmd *exec.Cmd, exited chan error) {
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// waitReady polls readyPath until the server answers with any HTTP status
// below 500, the process exits or s3ReadyTimeout passes.
func (s *S3Server) waitReady(readyPath string, exited chan error) error {
	tr := &http.Transport{}
	if s.caPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.caPool, MinVersion: tls.VersionTLS12}
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(s3ReadyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // let the cleanup see it too
			return fmt.Errorf("process exited: %v", err)
		default:
		}
		resp, err := c.Get(s.Endpoint + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %v: %v", s3ReadyTimeout, last)
}

// logTail returns the end of the server's log for a failure message, with
// the credentials masked.
func (s *S3Server) logTail() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	for _, secret := range []string{s.AccessKey, s.SecretKey} {
		b = bytes.ReplaceAll(b, []byte(secret), []byte(dbbackup.Mask))
	}
	return fmt.Sprintf("\n--- %s log (%s) ---\n%s", s.Name, s.LogPath, b)
}

// findBinary returns the path of a server built by scripts/install-s3-servers.sh
// into CacheDir()/bin, or found on PATH; without one the test is Unavailable.
func findBinary(t T, name string) string {
	t.Helper()
	p := filepath.Join(CacheDir(), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Unavailable(t, "%s is not built: run scripts/install-s3-servers.sh", name)
	return ""
}

// freePort is FreePort as text.
func freePort(t T) string {
	t.Helper()
	return strconv.Itoa(FreePort(t))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// encodeCAChain returns pem as the s3 interface carries it.
func encodeCAChain(pem []byte) []string {
	return []string{base64.StdEncoding.EncodeToString(pem)}
}
