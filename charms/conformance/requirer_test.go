package conformance

import (
	"fmt"
	"strings"
	"testing"
)

// TestRequirer runs the seed's requirer behaviours against -requirer, or
// against dbbackup's manager and the seed-only requirer of testdata, with
// the seed-only provider of testdata as the database.
func TestRequirer(t *testing.T) {
	if *requirerFlag != "" {
		t.Run("flag", func(t *testing.T) { requirerSuite(newKit(t), *requirerFlag, *requirerS3Flag) })
		return
	}
	t.Run("database-backup-manager", func(t *testing.T) { requirerSuite(newKit(t), "database-backup-manager", "relation") })
	t.Run("seedrequirer", func(t *testing.T) { requirerSuite(newKit(t), "conformance/testdata/seedrequirer", "config") })
}

// requirerSuite deploys the requirer at path beside the seed-only provider
// (which advertises no capability) and checks the seed's requirer
// behaviours: storage configuration in each job, in the seed's format;
// results relayed; a restore that names the reported artefact-path; the
// history kept and cleared.
func requirerSuite(k *kit, path, s3Mode string) {
	t := k.t
	k.deploy("requirer", k.charm(path), 1)
	k.deploy("provider", k.charm("conformance/testdata/seedprovider"), 1)
	k.config("provider", map[string]string{"data": "before", "pause": "true"})
	s3 := map[string]string{"bucket": k.bucket, "endpoint": k.s3.Endpoint, "region": k.s3.Region,
		"access-key": k.s3.AccessKey, "secret-key": k.s3.SecretKey}
	switch s3Mode {
	case "config":
		k.config("requirer", s3)
	case "relation":
		k.deploy("s3", k.charm("database-backup-manager/testdata/s3stub"), 1)
		s3["mode"] = "v0"
		k.config("s3", s3)
		if _, err := k.m.Integrate(k.ctx, "s3:s3-credentials", "requirer:s3-credentials"); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("-requirer-s3 %q: want relation or config", s3Mode)
	}
	k.relate()

	// Each job carries the storage configuration, in the seed's format:
	// the provider advertises no capability.
	b1 := k.action(*backupActionFlag, nil)["job-id"].(string)
	job := find(k.requested(), b1)
	if job == nil {
		t.Fatalf("backup %s is not in the requirer's application databag: %v", b1, k.requested())
	}
	sc, _ := job["storage-config"].(map[string]any)
	switch {
	case job["job-type"] != "backup" || job["storage-interface"] != "s3":
		t.Errorf("job %s: job-type %v, storage-interface %v", b1, job["job-type"], job["storage-interface"])
	case sc["bucket"] != k.bucket:
		t.Errorf("job %s: storage-config.bucket = %v, want %s", b1, sc["bucket"], k.bucket)
	case sc["access-key"] != k.s3.AccessKey || sc["secret-key"] != k.s3.SecretKey:
		t.Errorf("job %s: the keys are not inline, as the seed says, for a provider that advertises nothing", b1)
	case sc["credentials-secret"] != nil:
		t.Errorf("job %s: credentials-secret used with a provider that does not advertise it", b1)
	}

	// The provider runs it; the requirer relays the result.
	k.config("provider", map[string]string{"pause": "false"})
	got := k.wait(b1)
	if got[b1][0].str("status") != "success" {
		t.Fatalf("the seed-only provider's backup failed: %s", describe(got))
	}
	k.m.UpdateStatus()
	k.settle()
	if _, msg := k.m.UnitStatus(k.m.Leader("requirer")); !strings.Contains(msg, "success") {
		t.Errorf("the requirer's status does not relay the backup's success: %q", msg)
	}

	// A restore names the artefact-path the provider reported; the data
	// comes back.
	k.config("provider", map[string]string{"data": "after"})
	r1 := k.action(*restoreActionFlag, map[string]any{"backup-id": b1})["job-id"].(string)
	got = k.wait(r1)
	if rj := k.requestedEver()[r1]; rj == nil || rj["artefact-path"] != got[b1][0].str("artefact-path") {
		t.Errorf("restore %s names artefact-path %v, the backup was reported at %q", r1, rj["artefact-path"], got[b1][0].str("artefact-path"))
	}
	if got[r1][0].str("status") != "success" || got[r1][0].str("artefact-path") != got[b1][0].str("artefact-path") {
		t.Errorf("restore %s: %s", r1, describe(map[string][]report{r1: got[r1]}))
	}
	if _, msg := k.m.UnitStatus("provider/0"); msg != "database: before" {
		t.Errorf("after the restore the provider's database is %q, want before", msg)
	}

	// The history keeps completed and running jobs; clearing removes the
	// completed ones only.
	k.config("provider", map[string]string{"pause": "true"})
	b2 := k.action(*backupActionFlag, nil)["job-id"].(string)
	history := fmt.Sprint(k.action(*listActionFlag, nil))
	for _, id := range []string{b1, r1, b2} {
		if !strings.Contains(history, id) {
			t.Errorf("the history lacks %s: %s", id, history)
		}
	}
	k.action(*clearActionFlag, nil)
	history = fmt.Sprint(k.action(*listActionFlag, nil))
	for _, id := range []string{b1, r1} {
		if strings.Contains(history, id) {
			t.Errorf("the history still holds %s after clearing: %s", id, history)
		}
	}
	if !strings.Contains(history, b2) || find(k.requested(), b2) == nil {
		t.Errorf("clearing removed the pending job %s: %s", b2, history)
	}
	k.config("provider", map[string]string{"pause": "false"})
	if got := k.wait(b2); got[b2][0].str("status") != "success" {
		t.Errorf("backup %s after clearing: %s", b2, describe(got))
	}
}

// find returns the job with id in jobs, or nil.
func find(jobs []map[string]any, id string) map[string]any {
	for _, j := range jobs {
		if j["job-id"] == id {
			return j
		}
	}
	return nil
}
