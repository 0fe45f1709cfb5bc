package manager

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// The seed's requirer behaviours with one database: storage config per
// job, results relayed, history preserved, history cleared; s3 v0.
func TestBackupRestoreClearV0(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	if got := s.status("manager/0"); !strings.HasPrefix(got, "blocked: no s3 credentials") {
		t.Errorf("status without s3 = %q", got)
	}
	// list-backups right after relating: an empty table, not a traceback.
	res := s.ok("manager/0", "list-backups", nil)
	if got := res["backups"].(string); !strings.Contains(got, "backup-id") || !strings.Contains(got, "(no backups yet)") {
		t.Errorf("empty list-backups = %q", got)
	}
	s.refused("manager/0", "create-backup", nil, "no s3 credentials")
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("jobs requested without s3: %q", got)
	}

	s.addS3("v0", "")
	if got := s.status("manager/0"); got != "active: ready: no backup yet" {
		t.Errorf("status once s3 is related = %q", got)
	}
	res = s.ok("manager/0", "create-backup", nil)
	id := res["job-id"].(string)
	if res["backup-id"] != id || res["application"] != "pg" || !strings.HasPrefix(id, "job-") {
		t.Errorf("create-backup results = %v", res)
	}
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	if show["status"] != "success" || show["unit"] != "pg/0" || show["message"] != "backup stored" {
		t.Errorf("show-job = %v", show)
	}
	if got := s.status("manager/0"); got != "active: last backup of pg just now: success" {
		t.Errorf("status after a backup = %q", got)
	}
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("a finished job stays requested: %q", got)
	}
	list := s.ok("manager/0", "list-backups", map[string]any{"format": "json"})
	var rows []backup
	if err := json.Unmarshal([]byte(list["backups"].(string)), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != id || rows[0].Engine != "postgresql" || !rows[0].Restorable || rows[0].Size == 0 || rows[0].Path != "pg/"+id+"/" {
		t.Errorf("list-backups = %+v", rows)
	}
	table := s.ok("manager/0", "list-backups", nil)["backups"].(string)
	for _, want := range []string{"backup-id", "engine", "artefact-path", id, "postgresql", "success"} {
		if !strings.Contains(table, want) {
			t.Errorf("list-backups table lacks %q:\n%s", want, table)
		}
	}

	res = s.ok("manager/0", "restore", map[string]any{"backup-id": id})
	rid := res["job-id"].(string)
	show = s.ok("manager/0", "show-job", map[string]any{"job-id": rid})
	if show["status"] != "success" || show["job-type"] != "restore" || show["artefact-path"] != "pg/"+id+"/" {
		t.Errorf("restore show-job = %v", show)
	}
	jobs := s.ok("manager/0", "list-jobs", nil)["jobs"].(string)
	if !strings.Contains(jobs, id) || !strings.Contains(jobs, rid) || !strings.Contains(jobs, "pg/0") {
		t.Errorf("list-jobs:\n%s", jobs)
	}

	// Bad parameters: a clear message, nothing requested.
	s.refused("manager/0", "restore", map[string]any{"backup-id": "job-20990101T000000Z-00000000"}, "not found")
	s.refused("manager/0", "restore", map[string]any{"backup-id": "../etc"}, "is not a backup id")
	s.refused("manager/0", "restore", map[string]any{"backup-id": rid}, "is a restore job, not a backup")
	s.refused("manager/0", "create-backup", map[string]any{"application": "nope"}, `application "nope" is not related: related are pg`)
	if _, err := s.m.RunAction(s.ctx, "manager/0", "create-backup", map[string]any{"compression": "maybe"}); err == nil || !strings.Contains(err.Error(), "compression") {
		t.Errorf("compression=maybe: %v", err)
	}
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("a refused action requested jobs: %q", got)
	}

	cleared := s.ok("manager/0", "clear-history", nil)
	if cleared["removed"] != "2" || cleared["kept"] != "0" {
		t.Errorf("clear-history = %v", cleared)
	}
	if got := s.ok("manager/0", "list-jobs", nil)["jobs"].(string); !strings.Contains(got, "(no jobs)") {
		t.Errorf("list-jobs after clearing:\n%s", got)
	}
	// The backup stays listed from its manifest in the bucket, and it can
	// be restored from there, as by a new manager on an old bucket.
	if got := s.ok("manager/0", "list-backups", nil)["backups"].(string); !strings.Contains(got, id) {
		t.Errorf("list-backups after clear-history lost the bucket's backup:\n%s", got)
	}
	again := s.ok("manager/0", "restore", map[string]any{"backup-id": id})["job-id"].(string)
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": again}); got["status"] != "success" || got["artefact-path"] != "pg/"+id+"/" {
		t.Errorf("restore of a backup known only from the bucket: %v", got)
	}
	s.noCanary()
}

// s3 v1: the keys come in a Juju secret named by secret-extra; the manager
// asks for them with requested-secrets.
func TestS3V1SecretExtra(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v1", "")
	if got := s.m.RelationData(s.rels["s3"], "manager")[requestedSecretsKey]; got != requestedSecrets {
		t.Errorf("requested-secrets = %q", got)
	}
	id := s.ok("manager/0", "create-backup", map[string]any{"compression": false})["job-id"].(string)
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": id}); got["status"] != "success" || got["compression"] != "false" {
		t.Errorf("show-job = %v", got)
	}
	s.noCanary()
}

// Credentials the server rejects: blocked with the reason, nothing
// requested; the status clears once the credentials are fixed.
func TestRejectedCredentialsBlockThenClear(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "wrong-secret-key-0123456789")
	if got := s.status("manager/0"); !strings.HasPrefix(got, "blocked: s3 bucket unusable") || !strings.Contains(got, "check access-key") {
		t.Errorf("status with rejected keys = %q", got)
	}
	s.refused("manager/0", "create-backup", nil, "does not accept the credentials")
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("jobs requested with rejected keys: %q", got)
	}
	s.config("s3", map[string]string{"secret-key": s.s3.SecretKey})
	if got := s.status("manager/0"); got != "active: ready: no backup yet" {
		t.Errorf("status once the keys are fixed = %q", got)
	}
	// The credentials secret got a new revision with the fixed key, which
	// the provider reads for the next job.
	uri := s.peerData()[credsSecretKey]
	content, rev, err := s.m.SecretContent(uri)
	if err != nil || rev != 2 || content["secret-key"] != s.s3.SecretKey || content["access-key"] != s.s3.AccessKey {
		t.Errorf("credentials secret %q: revision %d, holds the fixed keys: %v (err %v)", uri, rev,
			content["secret-key"] == s.s3.SecretKey && content["access-key"] == s.s3.AccessKey, err)
	}
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": id}); got["status"] != "success" {
		t.Errorf("backup with the fixed keys: show-job = %v", got)
	}
	s.noCanary()
}

// A failed backup is relayed with its message and cannot be restored.
func TestFailedBackupRelayedAndRefused(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("pg", map[string]string{"mode": "error"})
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	if show["status"] != "error" || show["message"] != "simulated failure of the backup" {
		t.Errorf("show-job = %v", show)
	}
	if got := s.status("manager/0"); got != "active: last backup of pg just now: error: simulated failure of the backup" {
		t.Errorf("status = %q", got)
	}
	s.refused("manager/0", "restore", map[string]any{"backup-id": id}, "ended in error")
}

// Two databases of different engines at once: a backup of each; a restore
// of one leaves the other untouched; a restore across engines is refused.
func TestTwoDatabasesMixedEngines(t *testing.T) {
	s := newSim(t, 1)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	s.addDB("maria", "mysql")
	s.refused("manager/0", "create-backup", nil, "several database applications are related (maria, pg)")
	pg := s.ok("manager/0", "create-backup", map[string]any{"application": "pg"})["job-id"].(string)
	maria := s.ok("manager/0", "create-backup", map[string]any{"application": "maria"})["job-id"].(string)
	s.refused("manager/0", "restore", map[string]any{"backup-id": maria, "application": "pg"}, "is a mysql backup, but pg runs postgresql")
	res := s.ok("manager/0", "restore", map[string]any{"backup-id": pg})
	if res["application"] != "pg" {
		t.Errorf("restore went to %v", res["application"])
	}
	var h requirer.History
	h, err := requirer.ParseHistory(s.peerData()[requirer.HistoryKey])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h.Records {
		if r.Application == "maria" && r.Type == "restore" {
			t.Errorf("maria got a restore: %+v", r)
		}
		if r.Status != dbbackup.Success {
			t.Errorf("%s: %s %q", r.JobID, r.Status, r.Message)
		}
	}
	if len(h.Records) != 3 {
		t.Errorf("history has %d records, want 3", len(h.Records))
	}
	s.noCanary()
}

// A leader change mid-backup: the job completes, the new leader reports
// it, nothing is requested twice; the history survives the removal of the
// database relation.
func TestLeaderChangeMidBackupAndRelationRemoval(t *testing.T) {
	s := newSim(t, 2)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	s.config("pg", map[string]string{"mode": "hold"})
	leader := s.m.Leader("manager")
	id := s.ok(leader, "create-backup", nil)["job-id"].(string)
	if got := s.status(leader); got != "active: backup "+id+" running on pg/0" {
		t.Errorf("status mid-backup = %q", got)
	}
	show := s.ok(leader, "show-job", map[string]any{"job-id": id})
	if show["status"] != "running" || show["progress"] != "dumping: 42% (simulated)" {
		t.Errorf("show-job mid-backup = %v", show)
	}
	other := "manager/0"
	if leader == other {
		other = "manager/1"
	}
	s.refused(other, "create-backup", nil, "not the leader")
	if err := s.m.SetLeader(s.ctx, other); err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.config("pg", map[string]string{"mode": "success"})
	s.m.UpdateStatus()
	s.settle()
	show = s.ok(other, "show-job", map[string]any{"job-id": id})
	if show["status"] != "success" {
		t.Errorf("show-job on the new leader = %v", show)
	}
	if got := s.status(other); got != "active: last backup of pg just now: success" {
		t.Errorf("new leader's status = %q", got)
	}
	h, err := requirer.ParseHistory(s.peerData()[requirer.HistoryKey])
	if err != nil || len(h.Records) != 1 {
		t.Fatalf("history: %v, %d records", err, len(h.Records))
	}
	if got := s.jobsRequested("pg"); got != "" {
		t.Errorf("still requested after success: %q", got)
	}
	if err := s.m.RemoveRelation(s.ctx, s.rels["pg"]); err != nil {
		t.Fatal(err)
	}
	delete(s.rels, "pg")
	s.settle()
	jobs := s.ok(other, "list-jobs", nil)["jobs"].(string)
	if !strings.Contains(jobs, id) || !strings.Contains(jobs, "success") {
		t.Errorf("history lost with the relation:\n%s", jobs)
	}
	if got := s.status(other); got != "blocked: no database related: integrate a database-backup provider" {
		t.Errorf("status without a database = %q", got)
	}
	s.noCanary()
}

// A restore while another restore of the application runs is refused;
// the status tells which restore runs where; each pending job carries the
// storage configuration.
func TestRestoreAlreadyRunning(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	s.config("pg", map[string]string{"mode": "hold"})
	rid := s.ok("manager/0", "restore", map[string]any{"backup-id": id})["job-id"].(string)
	if got := s.status("manager/0"); got != "waiting: restore "+rid+" running on pg/0" {
		t.Errorf("status = %q", got)
	}
	s.refused("manager/0", "restore", map[string]any{"backup-id": id}, "restore "+rid+" is running on pg/0")
	jobs := dbbackup.ParseJobs(s.jobsRequested("pg"), dbbackup.Requirer)
	if ps := jobs.AllProblems(); len(ps) > 0 || len(jobs.Jobs()) != 1 {
		t.Fatalf("requested jobs: %v %+v", ps, jobs.Jobs())
	}
	j := jobs.Jobs()[0]
	if j.ID != rid || j.Storage.Bucket != s.bucket || j.Storage.Endpoint != s.s3.Endpoint || j.ArtefactPath != "pg/"+id+"/" {
		t.Errorf("requested restore = %+v", j.Redacted())
	}
	// The keys travel as a Juju secret: masked in the job, in the secret
	// its credentials-secret names.
	if j.Storage.AccessKey != dbbackup.Mask || j.Storage.SecretKey != dbbackup.Mask {
		t.Errorf("requested restore has access-key %q secret-key %q, want both %q", j.Storage.AccessKey, j.Storage.SecretKey, dbbackup.Mask)
	}
	var uri string
	if err := json.Unmarshal(j.Storage.Extra["credentials-secret"], &uri); err != nil || uri == "" {
		t.Fatalf("requested restore has no credentials-secret: %s", j.Storage.Extra["credentials-secret"])
	}
	content, _, err := s.m.SecretContent(uri)
	if err != nil || content["access-key"] != s.s3.AccessKey || content["secret-key"] != s.s3.SecretKey {
		t.Errorf("the credentials secret %s does not hold the S3 keys (err %v)", uri, err)
	}
	s.config("pg", map[string]string{"mode": "success"})
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": rid}); got["status"] != "success" {
		t.Errorf("show-job = %v", got)
	}
	s.noCanary()
}

// A history the manager cannot read (a newer layout) is never overwritten:
// the status says so, requests are refused, and it reads again once fixed.
func TestUnreadableHistoryIsKept(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	good := s.peerData()[requirer.HistoryKey]
	setHistory := func(text string) {
		t.Helper()
		file := t.TempDir() + "/h.yaml"
		doc, _ := json.Marshal(map[string]string{requirer.HistoryKey: text}) // JSON is YAML
		if err := os.WriteFile(file, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := s.m.Exec(s.ctx, "manager/0", "relation-set -r $(relation-ids "+peerEndpoint+") --app --file "+file)
		if err != nil || res.Code != 0 {
			t.Fatalf("relation-set: %v %+v", err, res)
		}
		s.settle()
	}
	future := `{"version":99,"records":[]}`
	setHistory(future)
	s.m.UpdateStatus()
	s.settle()
	if got := s.status("manager/0"); !strings.HasPrefix(got, "blocked: job history unreadable") {
		t.Errorf("status = %q", got)
	}
	s.refused("manager/0", "create-backup", nil, "version 99")
	if got := s.peerData()[requirer.HistoryKey]; got != future {
		t.Errorf("the unreadable history was overwritten: %q", got)
	}
	setHistory(good)
	s.m.UpdateStatus()
	s.settle()
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": id}); got["status"] != "success" {
		t.Errorf("show-job after the fix = %v", got)
	}
}
