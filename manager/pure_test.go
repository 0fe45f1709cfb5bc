package manager

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/engine"
)

func TestStorageFromEveryShape(t *testing.T) {
	ca := "LS0tLS1CRUdJTi0tLS0t"
	full := dbbackup.StorageConfig{Bucket: "b", Credentials: dbbackup.Credentials{AccessKey: "AK", SecretKey: "SK"}, Endpoint: "http://127.0.0.1:9000",
		Region: "eu-1", URIStyle: "path", APIVersion: 4, TLSCAChain: []string{ca}, Path: "p"}
	tests := []struct {
		name    string
		data    map[string]string
		secret  map[string]string
		want    dbbackup.StorageConfig
		problem string
	}{{
		name: "v0 plain",
		data: map[string]string{"bucket": "b", "access-key": "AK", "secret-key": "SK", "endpoint": "http://127.0.0.1:9000",
			"region": "eu-1", "s3-uri-style": "path", "s3-api-version": "4", "tls-ca-chain": ca, "path": "p"},
		want: full,
	}, {
		name: "v0 JSON-encoded values (data-platform-libs)",
		data: map[string]string{"bucket": `"b"`, "access-key": `"AK"`, "secret-key": `"SK"`, "endpoint": `"http://127.0.0.1:9000"`,
			"region": `"eu-1"`, "s3-uri-style": `"path"`, "s3-api-version": "4", "tls-ca-chain": `["` + ca + `"]`, "path": `"p"`,
			"attributes": "[]", "lib-version": "1", "delete-older-than-days": "7"},
		want: full,
	}, {
		name: "v1 secret-extra",
		data: map[string]string{"bucket": "b", "endpoint": "http://127.0.0.1:9000", "region": "eu-1", "s3-uri-style": "path",
			"s3-api-version": `"4"`, "tls-ca-chain": `["` + ca + `"]`, "path": "p", "secret-extra": "secret:abc", "lib-version": "1"},
		secret: map[string]string{"access-key": "AK", "secret-key": "SK"},
		want:   full,
	}, {
		name:    "keys missing",
		data:    map[string]string{"bucket": "b"},
		problem: "s3-integrator has not sent access-key, secret-key",
	}, {
		name:    "nothing yet",
		data:    map[string]string{},
		problem: "s3-integrator has not sent bucket, access-key, secret-key",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := storageFrom(tt.data, tt.secret)
			if problem != tt.problem {
				t.Fatalf("problem = %q, want %q", problem, tt.problem)
			}
			got.Extra = nil
			if len(got.Attributes) == 0 {
				got.Attributes = nil
			}
			if tt.problem == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzStorageFrom: any databag gives a configuration or a problem, and a
// problem never holds a key.
func FuzzStorageFrom(f *testing.F) {
	f.Add("b", "AKCANARY", "SKCANARY", "4", `["x"]`)
	f.Add(`"b"`, `"AKCANARY"`, "SKCANARY", `"2"`, "")
	f.Add("", "", "", "five", "[1]")
	f.Fuzz(func(t *testing.T, bucket, ak, sk, api, ca string) {
		data := map[string]string{"bucket": bucket, "access-key": ak, "secret-key": sk, "s3-api-version": api, "tls-ca-chain": ca}
		cfg, problem := storageFrom(data, nil)
		if problem == "" && (cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "") {
			t.Fatalf("no problem, but an incomplete configuration")
		}
		for _, k := range []string{cfg.AccessKey, cfg.SecretKey} {
			if len(k) > 3 && strings.Contains(problem, k) {
				t.Fatalf("problem %q holds a key", problem)
			}
		}
	})
}

func TestUnitStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	done := requirer.Record{JobID: "job-1", Application: "postgresql", Type: dbbackup.Backup, Status: dbbackup.Success,
		Unit: "postgresql/0", RequestedAt: now.Add(-3 * time.Hour), FinishedAt: now.Add(-2 * time.Hour)}
	failed := done
	failed.JobID, failed.Status, failed.Message, failed.FinishedAt = "job-2", dbbackup.Error, "disk full", now.Add(-time.Minute*5)
	restore := requirer.Record{JobID: "job-3", Application: "postgresql", Type: dbbackup.Restore, Status: dbbackup.Running,
		Unit: "postgresql/0", RequestedAt: now, StartedAt: now}
	waiting := requirer.Record{JobID: "job-4", Application: "mysql", Type: dbbackup.Backup, Status: dbbackup.Waiting, RequestedAt: now}
	dbs := []string{"postgresql"}
	tests := []struct {
		name   string
		in     statusInput
		status goops.StatusName
		msg    string
	}{
		{"no s3", statusInput{s3Problem: "no s3 credentials: integrate with an s3-integrator", check: s3Check{OK: true}}, goops.StatusBlocked, "no s3 credentials: integrate with an s3-integrator"},
		{"rejected", statusInput{check: s3Check{Short: "b at http://x: check access-key"}, databases: dbs}, goops.StatusBlocked, "s3 bucket unusable: b at http://x: check access-key"},
		{"encryption-secret unusable", statusInput{check: s3Check{OK: true}, databases: dbs, encProblem: "encryption-secret: not a secret URI (secret:...)"},
			goops.StatusBlocked, "encryption-secret: not a secret URI (secret:...)"},
		{"no database", statusInput{check: s3Check{OK: true}}, goops.StatusBlocked, "no database related: integrate a database-backup provider"},
		{"ready", statusInput{check: s3Check{OK: true}, databases: dbs}, goops.StatusActive, "ready: no backup yet"},
		{"last success", statusInput{check: s3Check{OK: true}, databases: dbs, history: requirer.History{Records: []requirer.Record{done}}}, goops.StatusActive, "last backup of postgresql 2h ago: success"},
		{"latest error wins", statusInput{check: s3Check{OK: true}, databases: dbs, history: requirer.History{Records: []requirer.Record{done, failed}}}, goops.StatusActive, "last backup of postgresql 5m ago: error: disk full"},
		{"restore running", statusInput{check: s3Check{OK: true}, databases: dbs, history: requirer.History{Records: []requirer.Record{done, restore, waiting}}}, goops.StatusWaiting, "restore job-3 running on postgresql/0"},
		{"backup waiting", statusInput{check: s3Check{OK: true}, databases: dbs, history: requirer.History{Records: []requirer.Record{done, waiting}}}, goops.StatusActive, "backup job-4 waiting for a unit of mysql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.now = now
			st, msg := unitStatus(tt.in)
			if st != tt.status || msg != tt.msg {
				t.Errorf("got %s %q, want %s %q", st, msg, tt.status, tt.msg)
			}
		})
	}
}

func TestMergeBackups(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := requirer.History{Records: []requirer.Record{
		{JobID: "job-a", Application: "pg", Type: dbbackup.Backup, Status: dbbackup.Success, RequestedAt: t0, StartedAt: t0, FinishedAt: t0.Add(time.Minute), ArtefactPath: "p/pg/job-a/"},
		{JobID: "job-b", Application: "pg", Type: dbbackup.Backup, Status: dbbackup.Error, RequestedAt: t0.Add(time.Hour), Message: "boom"},
		{JobID: "job-c", Application: "pg", Type: dbbackup.Restore, Status: dbbackup.Success, RequestedAt: t0.Add(2 * time.Hour)},
		{JobID: "job-d", Application: "pg", Type: dbbackup.Backup, Status: dbbackup.Success, RequestedAt: t0.Add(3 * time.Hour)},
	}}
	sums := []artefact.Summary{
		{Scope: "pg", JobID: "job-a", Prefix: "pg/job-a/", Complete: true, Engine: engine.PostgreSQL, StoredBytes: 2048, StartedAt: t0, FinishedAt: t0.Add(time.Minute)},
		{Scope: "old", JobID: "job-z", Prefix: "old/job-z/", Complete: true, Engine: engine.MySQL, StoredBytes: 10, StartedAt: t0.Add(-time.Hour), FinishedAt: t0.Add(-time.Hour)},
		{Scope: "pg", JobID: "job-b", Prefix: "pg/job-b/", LastModified: t0.Add(time.Hour)},
	}
	got := mergeBackups(h, sums, true, "p", "")
	want := []struct{ id, app, status string }{
		{"job-d", "pg", statusMissing}, {"job-b", "pg", "error"}, {"job-a", "pg", "success"}, {"job-z", "old", "success"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Application != w.app || got[i].Status != w.status {
			t.Errorf("row %d = %s %s %s, want %v", i, got[i].ID, got[i].Application, got[i].Status, w)
		}
	}
	if a := got[2]; !a.Restorable || a.Size != 2048 || a.Engine != "postgresql" || a.Path != "p/pg/job-a/" {
		t.Errorf("job-a = %+v", a)
	}
	if z := got[3]; !z.Restorable || z.Path != "p/old/job-z/" {
		t.Errorf("a backup only in the bucket = %+v", z)
	}
	if b := got[1]; b.Restorable {
		t.Errorf("a failed backup is restorable: %+v", b)
	}
	if only := mergeBackups(h, sums, true, "p", "old"); len(only) != 1 || only[0].ID != "job-z" {
		t.Errorf("application=old: %+v", only)
	}
	if empty := backupTable(nil); !strings.Contains(empty, "(no backups yet)") {
		t.Errorf("empty table %q", empty)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Fatal(err)
	}
}
