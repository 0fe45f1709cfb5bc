package manager

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
)

// addSeed deploys the seed-only provider (charms/conformance) as app, its
// database file holding data, and relates it.
func (s *sim) addSeed(app, data string) {
	s.t.Helper()
	if err := s.m.Deploy(s.ctx, app, model.Charm(s.t, "conformance/testdata/seedprovider"), 1); err != nil {
		s.t.Fatal(err)
	}
	s.config(app, map[string]string{"data": data})
	s.relate(app, app+":database-backup", "manager:database-backup")
}

// shown collects what the manager shows an admin: statuses, the given
// action results, the manager units' logs, tool calls and hook output (not
// the relation databags: a seed-only provider must get the keys there).
func (s *sim) shown(results ...map[string]any) []string {
	out := []string{s.m.Status()}
	for _, r := range results {
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	for _, e := range s.m.Timeline() {
		if strings.HasPrefix(e.Unit, "manager/") && e.Kind != "data" {
			out = append(out, e.Text)
		}
	}
	for _, v := range s.peerData() {
		out = append(out, v)
	}
	return out
}

// The manager with a provider written from the seed alone: the keys go
// inline (the provider advertises no capability), no credentials secret is
// made, juju status says so; the backup (no manifest) is listed as
// unverified, restorable, and its restore goes to the provider, which gets
// its data back from versitygw.
func TestSeedOnlyProviderBackupRestore(t *testing.T) {
	s := newSim(t, 1)
	s.addS3("v0", "")
	s.addSeed("seed", "version-1")
	if got := s.status("manager/0"); !strings.Contains(got, "seed format (inline credentials) for seed") {
		t.Errorf("status = %q, want it to name the seed format", got)
	}
	res := s.ok("manager/0", "create-backup", nil)
	id := res["job-id"].(string)
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	if show["status"] != "success" || show["artefact-path"] != "seed-dumps/"+id+".dump" {
		t.Fatalf("backup by the seed-only provider: %v", show)
	}
	if got := s.m.Secrets(); len(got) != 0 {
		t.Errorf("the manager made secrets for a provider that does not advertise credentials-secret: %v", got)
	}
	var rows []backup
	list := s.ok("manager/0", "list-backups", map[string]any{"format": "json"})
	if err := json.Unmarshal([]byte(list["backups"].(string)), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != id || rows[0].Status != statusUnverified || !rows[0].Restorable || !strings.Contains(rows[0].Message, "cannot verify") {
		t.Errorf("list-backups = %+v", rows)
	}

	s.config("seed", map[string]string{"data": "version-2"})
	if got := s.status("seed/0"); got != "active: database: version-2" {
		t.Fatalf("seed status = %q", got)
	}
	s.refused("manager/0", "restore", map[string]any{"backup-id": id, "application": "other"}, "restores it only into seed")
	rres := s.ok("manager/0", "restore", map[string]any{"backup-id": id})
	if rres["verified"] != "false" || !strings.Contains(rres["message"].(string), "cannot verify") {
		t.Errorf("restore results = %v", rres)
	}
	rshow := s.ok("manager/0", "show-job", map[string]any{"job-id": rres["job-id"]})
	if rshow["status"] != "success" {
		t.Errorf("restore = %v", rshow)
	}
	if got := s.status("seed/0"); got != "active: database: version-1" {
		t.Errorf("after the restore the seed database is %q, want version-1", got)
	}
	for _, text := range s.shown(res, show, list, rres, rshow) {
		for _, canary := range []string{s.s3.AccessKey, s.s3.SecretKey} {
			if strings.Contains(text, canary) {
				t.Errorf("a credential appears in what the manager shows: %.200q", text)
			}
		}
	}
}

// A provider that quotes the manager's access key in its messages: the
// admin sees it scrubbed in show-job, list-jobs, list-backups and status.
func TestProviderMessagesScrubbed(t *testing.T) {
	s := newSim(t, 1)
	s.addS3("v0", "")
	s.addSeed("seed", "x")
	s.config("seed", map[string]string{"leaky": "true"})
	id := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	// The backup succeeded: the provider signed with the real key, and
	// quoted it in its message.
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	if show["status"] != "success" || !strings.Contains(fmt.Sprint(show["message"]), "signed with access key ***") {
		t.Errorf("show-job = %v", show)
	}
	jobs := s.ok("manager/0", "list-jobs", map[string]any{"format": "json"})
	backups := s.ok("manager/0", "list-backups", map[string]any{"format": "json"})
	// A failed job puts the provider's message into juju status.
	s.config("seed", map[string]string{"fail": "true"})
	fid := s.ok("manager/0", "create-backup", nil)["job-id"]
	if got := s.status("manager/0"); !strings.Contains(got, "error: refused: config fail is set (signed with access key ***)") {
		t.Errorf("status after a failed backup = %q", got)
	}
	fshow := s.ok("manager/0", "show-job", map[string]any{"job-id": fid})
	for _, text := range s.shown(show, jobs, backups, fshow) {
		for _, canary := range []string{s.s3.AccessKey, s.s3.SecretKey} {
			if strings.Contains(text, canary) {
				t.Errorf("a credential appears in what the manager shows: %.200q", text)
			}
		}
	}
}

// Each extension only with a peer that advertises it: with two providers
// related, the one advertising credentials-secret gets masked keys and
// the secret's URI (granted to its relation only), the seed-only one the
// keys inline; the grant is revoked when the relation goes.
func TestCredentialsSecretOnlyWhereAdvertised(t *testing.T) {
	s := newSim(t, 1)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	s.addSeed("seed", "x")
	s.config("pg", map[string]string{"mode": "hold"})
	s.config("seed", map[string]string{"pause": "true"})
	s.ok("manager/0", "create-backup", map[string]any{"application": "pg"})
	s.ok("manager/0", "create-backup", map[string]any{"application": "seed"})
	pgJobs := dbbackup.ParseJobs(s.jobsRequested("pg"), dbbackup.Requirer).Jobs()
	if len(pgJobs) != 1 {
		t.Fatalf("jobs requested from pg: %q", s.jobsRequested("pg"))
	}
	var uri string
	if err := json.Unmarshal(pgJobs[0].Storage.Extra["credentials-secret"], &uri); err != nil || uri == "" {
		t.Fatalf("pg advertises credentials-secret but got no URI: %s", pgJobs[0].Storage.Extra["credentials-secret"])
	}
	if pgJobs[0].Storage.AccessKey != dbbackup.Mask || pgJobs[0].Storage.SecretKey != dbbackup.Mask {
		t.Errorf("pg got the keys inline")
	}
	seedJobs := dbbackup.ParseJobs(s.jobsRequested("seed"), dbbackup.Requirer).Jobs()
	if len(seedJobs) != 1 || seedJobs[0].Storage.AccessKey != s.s3.AccessKey || seedJobs[0].Storage.SecretKey != s.s3.SecretKey || seedJobs[0].Storage.Extra["credentials-secret"] != nil {
		t.Fatalf("the seed-only provider did not get the seed's format: %q", s.jobsRequested("seed"))
	}
	readable := func(unit string) bool {
		res, err := s.m.Exec(s.ctx, unit, "secret-get "+uri)
		return err == nil && res.Code == 0
	}
	if !readable("pg/0") {
		t.Fatalf("pg cannot read the credentials secret")
	}
	if readable("seed/0") {
		t.Errorf("the seed-only provider was granted the credentials secret")
	}
	if err := s.m.RemoveRelation(s.ctx, s.rels["pg"]); err != nil {
		t.Fatal(err)
	}
	s.settle()
	if readable("pg/0") {
		t.Errorf("pg still reads the credentials secret after its relation went")
	}
}
