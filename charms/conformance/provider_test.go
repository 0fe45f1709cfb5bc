package conformance

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestProvider runs the seed's provider behaviours against -provider, or
// against dbbackup's agent (with a real PostgreSQL) and the seed-only
// provider of testdata.
func TestProvider(t *testing.T) {
	if *providerFlag != "" {
		t.Run("flag", func(t *testing.T) {
			k := newKit(t)
			k.deploy("provider", k.charm(*providerFlag), *providerUnitsFlag)
			k.config("provider", configPairs(t, *providerConfigFlag))
			providerSuite(k)
		})
		return
	}
	t.Run("seedprovider", func(t *testing.T) {
		k := newKit(t)
		k.deploy("provider", k.charm("conformance/testdata/seedprovider"), *providerUnitsFlag)
		k.config("provider", map[string]string{"data": "kit"})
		providerSuite(k)
	})
	t.Run("database-backup-agent", func(t *testing.T) {
		pg := testenv.StartPostgres(t)
		pg.SQL(t, "postgres", "CREATE DATABASE shop")
		pg.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 200) g")
		k := newKit(t)
		k.deploy("provider", k.charm("database-backup-agent"), *providerUnitsFlag)
		uri, err := k.m.AddSecret(map[string]string{"password": pg.Password}, "provider")
		if err != nil {
			t.Fatal(err)
		}
		k.config("provider", map[string]string{"engine": "postgresql", "host": pg.Host, "port": fmt.Sprint(pg.Port),
			"user": pg.User, "databases": "shop", "password-secret": uri})
		providerSuite(k)
	})
}

// providerSuite relates the seed-only requirer to the provider under test
// and checks the seed's provider behaviours.
func providerSuite(k *kit) {
	t := k.t
	k.deploy("requirer", k.charm("conformance/testdata/seedrequirer"), 1)
	k.config("requirer", map[string]string{"bucket": k.bucket, "endpoint": k.s3.Endpoint, "region": k.s3.Region,
		"access-key": k.s3.AccessKey, "secret-key": k.s3.SecretKey})
	k.relate()

	// Capabilities, when advertised, are a valid list.
	if text, ok := k.m.RelationData(k.rel, "provider")[dbbackup.CapabilitiesKey]; ok {
		if _, err := dbbackup.ParseCapabilities(text); err != nil {
			t.Errorf("the provider advertises invalid capabilities: %v", err)
		}
	}

	// New jobs are detected and run; backups may run together; exactly one
	// unit runs each and reports it in its own unit databag.
	b1 := k.action(*backupActionFlag, nil)["job-id"].(string)
	b2 := k.action(*backupActionFlag, nil)["job-id"].(string)
	got := k.wait(b1, b2)
	for _, id := range []string{b1, b2} {
		if len(got[id]) != 1 {
			t.Errorf("backup %s reported by %d units, want exactly one: %s", id, len(got[id]), describe(got))
			continue
		}
		if r := got[id][0]; r.str("status") != "success" || r.str("artefact-path") == "" {
			t.Errorf("backup %s = %s %q, artefact-path %q; want success with an artefact-path", id, r.str("status"), r.str("message"), r.str("artefact-path"))
		}
	}

	// Restores run one at a time: never two reported running at once.
	r1 := k.action(*restoreActionFlag, map[string]any{"backup-id": b1})["job-id"].(string)
	r2 := k.action(*restoreActionFlag, map[string]any{"backup-id": b2})["job-id"].(string)
	got = k.waitObserving(func(now map[string][]report) {
		running := 0
		for _, id := range []string{r1, r2} {
			for _, r := range now[id] {
				if r.str("status") == "running" {
					running++
				}
			}
		}
		if running > 1 {
			t.Errorf("two restores running at once: %s", describe(now))
		}
	}, r1, r2)
	for _, id := range []string{r1, r2} {
		if len(got[id]) != 1 || got[id][0].str("status") != "success" {
			t.Errorf("restore %s: %s; want success reported by exactly one unit", id, describe(got))
		}
	}

	// Bad jobs are answered with an error and a message; a valid job
	// requested after them still runs.
	storage := map[string]any{"bucket": k.bucket, "endpoint": k.s3.Endpoint, "region": k.s3.Region,
		"access-key": k.s3.AccessKey, "secret-key": k.s3.SecretKey}
	bad := map[string]map[string]any{
		"bad-type":    {"job-id": "bad-type", "job-type": "explode", "job-config": map[string]any{"compression": true}, "storage-interface": "s3", "storage-config": storage},
		"bad-storage": {"job-id": "bad-storage", "job-type": "backup", "job-config": map[string]any{"compression": true}, "storage-interface": "s3", "storage-config": map[string]any{"bucket": k.bucket}},
		"bad-restore": {"job-id": "bad-restore", "job-type": "restore", "job-config": map[string]any{"compression": true}, "storage-interface": "s3", "storage-config": storage},
	}
	for _, id := range []string{"bad-type", "bad-storage", "bad-restore"} {
		b, _ := json.Marshal(bad[id])
		k.action("request-raw", map[string]any{"job": string(b)})
	}
	b3 := k.action(*backupActionFlag, nil)["job-id"].(string)
	got = k.wait("bad-type", "bad-storage", "bad-restore", b3)
	for _, id := range []string{"bad-type", "bad-storage", "bad-restore"} {
		if len(got[id]) != 1 || got[id][0].str("status") != "error" || got[id][0].str("message") == "" {
			t.Errorf("bad job %s: %s; want error with a message from exactly one unit", id, describe(map[string][]report{id: got[id]}))
		}
	}
	if len(got[b3]) != 1 || got[b3][0].str("status") != "success" {
		t.Errorf("backup %s after bad jobs: %s", b3, describe(map[string][]report{b3: got[b3]}))
	}

	// A completed job stays reported, unchanged, while it is requested.
	k.m.UpdateStatus()
	k.settle()
	again := k.reports()
	if len(again[b1]) != 1 || again[b1][0].str("status") != "success" {
		t.Errorf("backup %s no longer reported success while still requested: %s", b1, describe(again))
	}
}
