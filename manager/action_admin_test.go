package manager

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// listIDs runs list-backups with params (format=json) and returns the ids
// shown and the results.
func (s *sim) listIDs(params map[string]any) ([]string, map[string]any) {
	s.t.Helper()
	p := map[string]any{"format": "json"}
	for k, v := range params {
		p[k] = v
	}
	res := s.ok("manager/0", "list-backups", p)
	var rows []backup
	if err := json.Unmarshal([]byte(res["backups"].(string)), &rows); err != nil {
		s.t.Fatalf("list-backups %v: %v", params, err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, res
}

// backupOn requests a backup of app and returns its id.
func (s *sim) backupOn(app string) string {
	s.t.Helper()
	return s.ok("manager/0", "create-backup", map[string]any{"application": app})["job-id"].(string)
}

// list-backups on a clock the test moves (the manifests carry the wall
// clock's times, the history the model's, as in the demo): newest first
// by request, a deleted backup hidden and not counted unless asked, pages
// that cover every backup once, filters by application, time and state,
// and bad parameters refused with the parameter named.
func TestListBackupsPagesFiltersAndOrder(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addDB("my", "mysql")
	s.addS3("v0", "")
	var ids []string // oldest first: pg, my, pg, pg, my on days 20 to 24
	for i, app := range []string{"pg", "my", "pg", "pg", "my"} {
		if i > 0 {
			s.tick(clock, 24*time.Hour)
		}
		ids = append(ids, s.backupOn(app))
	}
	s.deletes("manager/0", "pg", ids[2], false)

	got, res := s.listIDs(nil)
	if want := []string{ids[4], ids[3], ids[1], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("list-backups = %v, want newest first without the deleted one %v", got, want)
	}
	if res["count"] != "4" || res["deleted-hidden"] != "1" || !strings.Contains(res["note"].(string), "show-deleted=true") {
		t.Errorf("list-backups results = %v, want count 4 and one deleted hidden", res)
	}
	got, res = s.listIDs(map[string]any{"show-deleted": true})
	if want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; !slices.Equal(got, want) || res["count"] != "5" {
		t.Errorf("show-deleted=true: %v (count %v), want %v", got, res["count"], want)
	}
	// Pages of two cover every backup once, in order.
	var paged []string
	offset := 0
	for range 5 {
		page, res := s.listIDs(map[string]any{"limit": 2, "offset": offset, "show-deleted": true})
		paged = append(paged, page...)
		next, ok := res["next-offset"].(string)
		if !ok {
			break
		}
		if next == "" || len(page) != 2 {
			t.Fatalf("page at %d: %v, next-offset %q", offset, page, next)
		}
		offset += 2
	}
	if want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; !slices.Equal(paged, want) {
		t.Errorf("paged = %v, want %v", paged, want)
	}
	for _, c := range []struct {
		params map[string]any
		want   []string
	}{
		{map[string]any{"application": "pg"}, []string{ids[3], ids[0]}},
		{map[string]any{"since": "2026-11-21", "until": "2026-11-23"}, []string{ids[3], ids[1]}},
		{map[string]any{"since": "2026-11-23T03:00:00Z"}, []string{ids[4], ids[3]}},
		{map[string]any{"state": "deleted"}, []string{ids[2]}},
		{map[string]any{"state": "success,deleted", "application": "pg"}, []string{ids[3], ids[2], ids[0]}},
		{map[string]any{"state": "error"}, []string{}},
	} {
		if got, _ := s.listIDs(c.params); !slices.Equal(got, c.want) {
			t.Errorf("list-backups %v = %v, want %v", c.params, got, c.want)
		}
	}
	// The bounds are in the action's schema (Juju refuses before the charm
	// runs); the charm checks them again (TestBackupQueryBounds).
	for _, p := range []map[string]any{{"limit": 301}, {"limit": 0}, {"offset": -1}} {
		if _, err := s.m.RunAction(s.ctx, "manager/0", "list-backups", p); err == nil {
			t.Errorf("list-backups %v: accepted", p)
		}
	}
	s.refused("manager/0", "list-backups", map[string]any{"since": "yesterday"}, `since "yesterday" is not a time`)
	s.refused("manager/0", "list-backups", map[string]any{"since": "2026-11-24", "until": "2026-11-21"}, "is before since")
	s.refused("manager/0", "list-backups", map[string]any{"state": "happy"}, `state "happy" is unknown`)
}

// objects opens the test bucket.
func (s *sim) objects() store.Store {
	s.t.Helper()
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// put writes one object of the test bucket.
func (s *sim) put(key, body string) {
	s.t.Helper()
	if _, err := s.objects().Put(s.ctx, key, strings.NewReader(body), store.PutOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// verify-backup and show-backup-log through the real manager charm: the
// newest backup of each application verified, the outcome in list-backups
// and list-jobs; a damaged part fails the action and shows FAILED; a
// backup's log read back, cut to size, a failed backup's log too, with the
// S3 server's keys planted in it scrubbed out.
func TestVerifyBackupAndShowLog(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addDB("my", "mysql")
	s.addS3("v0", "")
	old := s.backupOn("pg")
	pg := s.backupOn("pg")
	my := s.backupOn("my")

	res := s.ok("manager/0", "verify-backup", map[string]any{"format": "json"})
	var vs []verification
	if err := json.Unmarshal([]byte(res["results"].(string)), &vs); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range vs {
		got[v.BackupID] = v.OK
	}
	if res["verified"] != "2" || res["failed"] != "0" || len(got) != 2 || !got[pg] || !got[my] {
		t.Errorf("verify-backup = %v, want the newest of pg (%s) and my (%s) verified", res, pg, my)
	}
	table := s.ok("manager/0", "list-backups", nil)["backups"].(string)
	if !strings.Contains(table, "verified") || !lineHas(table, pg, "ok ") || lineHas(table, old, "ok ") {
		t.Errorf("list-backups after verify-backup:\n%s", table)
	}
	if jobs := s.ok("manager/0", "list-jobs", nil); !strings.Contains(jobs["verified"].(string), pg) {
		t.Errorf("list-jobs lacks the verifications: %v", jobs)
	}

	// Damage the older pg backup's data: its check fails, the action fails
	// and the listing says so.
	var part string
	for obj, err := range s.objects().List(s.ctx, "pg/"+old+"/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(obj.Key, ".dbbk") {
			part = obj.Key
		}
	}
	if part == "" {
		t.Fatalf("no data part found under pg/%s/", old)
	}
	s.put(part, "not the dump at all")
	r := s.run("manager/0", "verify-backup", map[string]any{"backup-id": old})
	if r.Status != "failed" || !strings.Contains(r.Message, "1 of 1 backups failed verification") || r.Results["failed"] != "1" {
		t.Errorf("verify-backup of a damaged backup: %s %q %v", r.Status, r.Message, r.Results)
	}
	if table := s.ok("manager/0", "list-backups", nil)["backups"].(string); !lineHas(table, old, "FAILED") || !lineHas(table, pg, "ok ") {
		t.Errorf("list-backups after a failed verification:\n%s", table)
	}
	s.refused("manager/0", "verify-backup", map[string]any{"backup-id": "job-20990101T000000Z-00000000"}, "not found")
	s.refused("manager/0", "verify-backup", map[string]any{"backup-id": "../x"}, "is not a backup id")

	// The log of a good backup, whole and cut.
	lg := s.ok("manager/0", "show-backup-log", map[string]any{"backup-id": pg})
	if !strings.Contains(lg["log"].(string), "fake dump of pg: starting") || lg["complete"] != "true" {
		t.Errorf("show-backup-log = %v", lg)
	}
	cut := s.ok("manager/0", "show-backup-log", map[string]any{"backup-id": pg, "size": 10})
	if n := len(cut["log"].(string)); n == 0 || n > 10 || !strings.Contains(cut["note"].(string), "the last") {
		t.Errorf("show-backup-log size=10 = %v", cut)
	}
	if _, err := s.m.RunAction(s.ctx, "manager/0", "show-backup-log", map[string]any{"backup-id": pg, "size": 1 << 20}); err == nil || !strings.Contains(err.Error(), "size") {
		t.Errorf("show-backup-log size=1MiB: %v", err)
	}

	// A failed backup keeps its log without a manifest; plant the server's
	// keys in it: they never come out.
	s.config("pg", map[string]string{"mode": "partial"})
	failed := s.backupOn("pg")
	canary := "connecting with " + s.s3.AccessKey + ":" + s.s3.SecretKey + "\nfake dump failed\n"
	s.put("pg/"+failed+"/"+artefact.LogName, canary)
	lg = s.ok("manager/0", "show-backup-log", map[string]any{"backup-id": failed})
	text := lg["log"].(string)
	if !strings.Contains(text, "fake dump failed") || lg["complete"] != "false" {
		t.Errorf("show-backup-log of a failed backup = %v", lg)
	}
	for _, k := range []string{s.s3.AccessKey, s.s3.SecretKey} {
		for _, v := range lg {
			if strings.Contains(v.(string), k) {
				t.Errorf("show-backup-log shows a credential: %q", v)
			}
		}
	}
	s.noCanary()
}

// lineHas reports whether a line of table holds both id and text.
func lineHas(table, id, text string) bool {
	for l := range strings.SplitSeq(table, "\n") {
		if strings.Contains(l, id) && strings.Contains(l, text) {
			return true
		}
	}
	return false
}

// show-job of a running job gives the time left, from the share its unit
// reports done and the time since it started.
func TestShowJobETA(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.config("pg", map[string]string{"mode": "hold"}) // reports "dumping: 42% (simulated)"
	id := s.backupOn("pg")
	s.tick(clock, time.Minute)
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	started, err := time.Parse(time.RFC3339, show["started"].(string))
	if err != nil || show["status"] != "running" {
		t.Fatalf("show-job = %v", show)
	}
	clock.Advance(42*time.Minute - clock.Now().Sub(started))
	show = s.ok("manager/0", "show-job", map[string]any{"job-id": id})
	if show["eta"] != "58m0s" || !strings.Contains(show["progress"].(string), "42%") {
		t.Errorf("show-job 42 minutes after the start at 42%% = %v, want eta 58m0s", show)
	}
}

// verify-schedule: at each slot the leader verifies the newest backup of
// each application once, kept with source "schedule"; a bad expression
// blocks the unit with the option named.
func TestVerifySchedule(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 20, 2, 50, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	s.backupOn("pg")
	newest := s.backupOn("pg")
	s.config("manager", map[string]string{"verify-schedule": "0 3 * * *"})
	s.tick(clock, 5*time.Minute)
	if got := s.peerData()[verificationsKey]; got != "" {
		t.Fatalf("verified before the slot: %s", got)
	}
	kept := func() []verification {
		t.Helper()
		var vs []verification
		if text := s.peerData()[verificationsKey]; text != "" {
			if err := json.Unmarshal([]byte(text), &vs); err != nil {
				t.Fatal(err)
			}
		}
		return vs
	}
	s.tick(clock, 10*time.Minute) // 03:05: the slot came
	vs := kept()
	if len(vs) != 1 || vs[0].BackupID != newest || !vs[0].OK || vs[0].Source != "schedule" {
		t.Fatalf("after the slot: %+v, want %s verified by the schedule", vs, newest)
	}
	s.tick(clock, 30*time.Minute) // no new slot: nothing again
	if again := kept(); len(again) != 1 || !again[0].At.Equal(vs[0].At) {
		t.Errorf("verified again without a slot: %+v", again)
	}
	if table := s.ok("manager/0", "list-backups", nil)["backups"].(string); !lineHas(table, newest, "ok ") {
		t.Errorf("list-backups after the scheduled verification:\n%s", table)
	}
	s.config("manager", map[string]string{"verify-schedule": "every day"})
	if got := s.status("manager/0"); !strings.HasPrefix(got, "blocked: invalid config: verify-schedule") {
		t.Errorf("status with a bad verify-schedule = %q", got)
	}
}
