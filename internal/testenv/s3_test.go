package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

func TestStartS3Servers(t *testing.T) {
	tests := []struct {
		name  string
		start func(T) *S3Server
	}{
		{"versitygw", StartVersityGW},
		{"versitygw-tls", func(t T) *S3Server { return StartVersityGWWith(t, S3Options{TLS: true}) }},
		{"minio", StartMinIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			s.CreateBucket(t, "probe")
			c, err := s.client()
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if _, err := c.PutObject(ctx, "probe", "k", strings.NewReader("v"), 1, minio.PutObjectOptions{}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			cfg := s.StorageConfig("probe")
			if cfg.Bucket != "probe" || cfg.AccessKey != s.AccessKey || cfg.Endpoint != s.Endpoint {
				t.Errorf("StorageConfig = %+v", cfg.Redacted())
			}
			if strings.HasPrefix(s.Endpoint, "https://") != (len(cfg.TLSCAChain) == 1) {
				t.Errorf("endpoint %s with %d CA certificates", s.Endpoint, len(cfg.TLSCAChain))
			}
		})
	}
}
