package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// garbled matches a mask glued to a letter or digit: what a scrubber that
// masks inside words leaves ("job-does-not-e***ist").
var garbled = regexp.MustCompile(`[\p{L}\p{N}]\*\*\*|\*\*\*[\p{L}\p{N}]`)

// TestNoCredentialInCLIOutput runs backup, restore, list, verify and delete
// against stores that refuse them (wrong keys, a one-letter secret key, a
// missing bucket, an endpoint that echoes the request's Authorization
// header and URL in its error) with a real PostgreSQL, and greps all they
// print for every credential: the S3 keys, the canaries and the database
// password. Each run fails with exit 1 (a failed operation), and nothing
// it prints is garbled by the scrubber or left for it to mask.
func TestNoCredentialInCLIOutput(t *testing.T) {
	pg := testenv.StartPostgres(t)
	t.Setenv("PGPASSWORD", pg.Password)
	pg.SQL(t, "postgres", "CREATE DATABASE shop")
	pg.SQL(t, "shop", "CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
	srv := testenv.StartVersityGW(t)
	srv.CreateBucket(t, "backups")
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<Error><Code>AccessDenied</Code><Message>denied: %s %s</Message><Resource>%s</Resource></Error>",
			r.Header.Get("Authorization"), r.URL.String(), r.URL.RawQuery)
	}))
	t.Cleanup(echo.Close)

	good := srv.StorageConfig("backups")
	canaryAK, canarySK := "AKCANARY0123456789", "sk-canary-abcdefghijklmnopqrstuvwxyz"
	configs := map[string]func(*dbbackup.StorageConfig){
		"wrong keys":        func(c *dbbackup.StorageConfig) { c.AccessKey, c.SecretKey = canaryAK, canarySK },
		"one-letter secret": func(c *dbbackup.StorageConfig) { c.AccessKey, c.SecretKey = canaryAK, "e" },
		"missing bucket":    func(c *dbbackup.StorageConfig) { c.Bucket = "nope" },
		"echoing endpoint":  func(c *dbbackup.StorageConfig) { c.AccessKey, c.SecretKey, c.Endpoint = canaryAK, canarySK, echo.URL },
	}
	url := pg.URL("shop")
	for name, edit := range configs {
		t.Run(name, func(t *testing.T) {
			cfg := good
			edit(&cfg)
			cfg.Path = "prod"
			file := writeStorageConfig(t, cfg)
			secrets := []string{good.AccessKey, good.SecretKey, canaryAK, canarySK, pg.Password, cfg.AccessKey, cfg.SecretKey}
			runs := [][]string{
				{"backup", "--engine", "postgresql", "--database-url", url, "--storage-config", file},
				{"restore", "--engine", "postgresql", "--database-url", url, "--storage-config", file, "--artefact-path", "prod/postgresql/job-1/"},
				{"list", "--storage-config", file},
				{"verify", "--storage-config", file, "--artefact-path", "prod/postgresql/job-1/"},
				{"delete", "--storage-config", file, "--artefact-path", "prod/postgresql/job-1/"},
			}
			for _, args := range runs {
				start := time.Now()
				code, out, errOut := runCLI(t, "", args...)
				all := out + errOut
				t.Logf("%s: exit %d: %s", args[0], code, all)
				if code != exitFail || errOut == "" {
					t.Errorf("%s: exit %d after %s, want 1 (a failed operation):\n%s", args[0], code, time.Since(start).Round(time.Millisecond), all)
				}
				for _, s := range secrets {
					if len(s) > 1 && strings.Contains(all, s) {
						t.Errorf("%s printed a credential:\n%s", args[0], all)
					}
				}
				if got := secret.Scrub(all, secrets); got != all {
					t.Errorf("%s printed a credential standing alone:\n%s", args[0], all)
				}
				if garbled.MatchString(all) {
					t.Errorf("%s printed garbled text:\n%s", args[0], all)
				}
			}
		})
	}
}
