package dbbackup

import (
	"fmt"
	"strings"
	"testing"
)

// TestStorageConfigNeverPrintsItsCredentials prints a configuration, and a
// job holding it, every way fmt can.
func TestStorageConfigNeverPrintsItsCredentials(t *testing.T) {
	cfg := StorageConfig{Bucket: "b", AccessKey: "AKCANARY", SecretKey: "SKCANARY", Endpoint: "http://127.0.0.1:9000"}
	job := Job{ID: "j", Storage: cfg}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{cfg, &cfg, job, &job, []StorageConfig{cfg}} {
			got := fmt.Sprintf(format, v)
			if strings.Contains(got, "CANARY") || !strings.Contains(got, "127.0.0.1:9000") && format != "%q" {
				t.Errorf("Sprintf(%q, %T) = %s", format, v, got)
			}
		}
	}
	if cfg.SecretKey != "SKCANARY" {
		t.Fatal("String changed the configuration")
	}
}
