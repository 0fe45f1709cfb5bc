package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// backupsIn returns the backups of scope with a manifest in the bucket
// and checks that a backup without one left no object at all behind.
func (s *sim) backupsIn(keys map[string]bool, scope string, ids []string) []string {
	s.t.Helper()
	var out []string
	for _, id := range ids {
		n := 0
		for k := range keys {
			if ofBackup(k, scope, id) {
				n++
			}
		}
		switch {
		case keys[scope+"/"+id+"/manifest.json"]:
			out = append(out, id)
		case n > 0:
			s.t.Errorf("backup %s of %s has no manifest but %d objects left", id, scope, n)
		}
	}
	return out
}

// Retention in a table of cases, one database application each, checked
// against the objects left in the bucket: four backups per application
// taken a day apart (b1 the oldest, 3 days old; b4 an hour old) on a clock
// the test moves, then the options set; each application keeps exactly
// what its rule says. The most recent backup is never deleted, nor one a
// waiting or running restore reads; applications without a rule keep
// everything; age-based expiry also happens later without any change.
func TestRetentionCases(t *testing.T) {
	clock := jujusim.NewManualClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	s := newSimOpts(t, 1, jujusim.Options{Clock: clock})
	cases := []struct {
		app        string
		backups    int
		restoreOf  int // restore this backup (1-based), kept pending
		count      string
		days       string
		want       []int // the backups left, 1-based
		wantLater  []int // three days later
		wantReason string
	}{
		{app: "count", backups: 4, count: "2", want: []int{3, 4}, wantLater: []int{3, 4}, wantReason: "retention-count=2"},
		{app: "age", backups: 4, days: "3", want: []int{2, 3, 4}, wantLater: []int{4}, wantReason: "retention-days=3"},
		{app: "both", backups: 4, count: "2", days: "3", want: []int{2, 3, 4}, wantLater: []int{3, 4}, wantReason: "retention-count=2, retention-days=3"},
		{app: "only", backups: 1, days: "1", want: []int{1}, wantLater: []int{1}},
		{app: "stale", backups: 2, days: "1", want: []int{2}, wantLater: []int{2}, wantReason: "retention-days=1"},
		{app: "restoring", backups: 4, restoreOf: 1, count: "1", want: []int{1, 4}, wantLater: []int{1, 4}, wantReason: "retention-count=1"},
		{app: "keepall", backups: 4, want: []int{1, 2, 3, 4}, wantLater: []int{1, 2, 3, 4}},
	}
	for _, c := range cases {
		s.addDB(c.app, "postgresql")
	}
	s.addS3("v0", "")
	ids := map[string][]string{}
	for day := 0; day < 4; day++ {
		for _, c := range cases {
			if day >= 4-c.backups {
				id := s.ok("manager/0", "create-backup", map[string]any{"application": c.app})["job-id"].(string)
				ids[c.app] = append(ids[c.app], id)
			}
		}
		if day < 3 {
			s.tick(clock, 24*time.Hour)
		}
	}
	s.tick(clock, time.Hour)
	for _, c := range cases {
		if c.restoreOf > 0 {
			s.config(c.app, map[string]string{"mode": "hold"})
			s.ok("manager/0", "restore", map[string]any{"backup-id": ids[c.app][c.restoreOf-1]})
		}
	}
	// Nothing is deleted before the options are set.
	keys := s.bucketKeys()
	for _, c := range cases {
		if got := s.backupsIn(keys, c.app, ids[c.app]); len(got) != c.backups {
			t.Fatalf("%s: %d backups in the bucket before retention, want %d", c.app, len(got), c.backups)
		}
	}
	var count, days []string
	for _, c := range cases {
		if c.count != "" {
			count = append(count, c.app+"="+c.count)
		}
		if c.days != "" {
			days = append(days, c.app+"="+c.days)
		}
	}
	s.config("manager", map[string]string{"retention-count": strings.Join(count, "; "), "retention-days": strings.Join(days, "\n")})

	check := func(when string, want func(int) []int) {
		t.Helper()
		keys := s.bucketKeys()
		for i, c := range cases {
			var wantIDs []string
			for _, n := range want(i) {
				wantIDs = append(wantIDs, ids[c.app][n-1])
			}
			if got := s.backupsIn(keys, c.app, ids[c.app]); !slices.Equal(got, wantIDs) {
				t.Errorf("%s: %s keeps %v, want %v (all: %v)", when, c.app, got, wantIDs, ids[c.app])
			}
		}
	}
	check("after the options were set", func(i int) []int { return cases[i].want })

	// What was deleted is in the log and in list-jobs, with the rule.
	res := s.ok("manager/0", "list-jobs", map[string]any{"format": "json"})
	var deleted []deletion
	if err := json.Unmarshal([]byte(fmt.Sprint(res["deleted"])), &deleted); err != nil {
		t.Fatalf("list-jobs deleted = %v: %v", res["deleted"], err)
	}
	for _, c := range cases {
		n := c.backups - len(c.want)
		got := 0
		for _, d := range deleted {
			if d.Application == c.app {
				got++
				if d.By != "retention" || d.Reason != c.wantReason || d.Objects < 3 {
					t.Errorf("%s: deletion %+v", c.app, d)
				}
			}
		}
		if got != n {
			t.Errorf("%s: list-jobs shows %d deletions, want %d", c.app, got, n)
		}
		for i, id := range ids[c.app] {
			kept := slices.Contains(c.want, i+1)
			if logged := s.logged("manager/0", "retention deleted backup "+id+" of "+c.app); logged != map[bool]int{true: 0, false: 1}[kept] {
				t.Errorf("%s: %d log lines for the deletion of %s (kept: %v)", c.app, logged, id, kept)
			}
		}
	}
	table := s.ok("manager/0", "list-jobs", nil)["deleted"]
	if tbl, _ := table.(string); !strings.Contains(tbl, "retention-count=2, retention-days=3") || !strings.Contains(tbl, ids["count"][0]) {
		t.Errorf("list-jobs deleted table:\n%v", table)
	}
	show := s.ok("manager/0", "show-job", map[string]any{"job-id": ids["count"][0]})
	if msg, _ := show["message"].(string); !strings.HasPrefix(msg, "deleted by retention (retention-count=2) at ") {
		t.Errorf("show-job of a deleted backup: message %q", msg)
	}

	// Three days later, with no change: every backup of "age" is older
	// than its rule but the most recent stays; update-status runs
	// retention (at most hourly).
	s.tick(clock, 72*time.Hour)
	check("three days later", func(i int) []int { return cases[i].wantLater })

	// update-status runs retention at most hourly.
	ran := s.peerData()[retentionRunKey]
	s.tick(clock, 10*time.Minute)
	if got := s.peerData()[retentionRunKey]; got != ran {
		t.Errorf("retention ran again 10 minutes later: %s then %s", ran, got)
	}
	s.tick(clock, time.Hour)
	if got := s.peerData()[retentionRunKey]; got == ran {
		t.Errorf("retention did not run an hour later: still %s", got)
	}
}

// With a retention rule set, the objects a failed backup left (a folder
// without a manifest) are deleted; incomplete folders the history does not
// know are not, nor is any successful backup the rule keeps.
func TestRetentionDropsFailedLeftovers(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	good := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	s.config("pg", map[string]string{"mode": "partial"})
	failed := s.ok("manager/0", "create-backup", nil)["job-id"].(string)
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": failed}); got["status"] != "error" {
		t.Fatalf("the partial backup: %v", got)
	}
	// A folder no job of this manager wrote.
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stranger := "job-20200101T000000Z-00000000"
	if _, err := st.Put(s.ctx, "pg/"+stranger+"/started.json", strings.NewReader(`{}`), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := s.bucketKeys()
	left := 0
	for k := range keys {
		if ofBackup(k, "pg", failed) {
			left++
		}
	}
	if left == 0 {
		t.Fatalf("the failed backup left no object: the test needs leftovers; bucket: %v", keys)
	}
	s.config("manager", map[string]string{"retention-count": "5"})
	keys = s.bucketKeys()
	for k := range keys {
		if ofBackup(k, "pg", failed) {
			t.Errorf("leftover of the failed backup kept: %s", k)
		}
	}
	if !keys["pg/"+good+"/manifest.json"] || !keys["pg/"+stranger+"/started.json"] {
		t.Errorf("retention deleted more than the failed backup's objects: %v", keys)
	}
	res := s.ok("manager/0", "list-jobs", map[string]any{"format": "json"})
	var deleted []deletion
	if err := json.Unmarshal([]byte(fmt.Sprint(res["deleted"])), &deleted); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0].BackupID != failed || deleted[0].Reason != leftoverReason || deleted[0].Objects != left {
		t.Errorf("deletions = %+v, want the failed backup's %d objects", deleted, left)
	}
}

// With a retention rule set, the unfinished uploads a killed or failed
// upload left are aborted under the folders of backups whose job ended
// (failed with objects, failed without any, successful) and of complete
// backups the history does not know; never under a backup whose job still
// runs, nor under an incomplete folder the history does not know. The
// deletion log reports each abort.
func TestRetentionAbortsUnfinishedUploads(t *testing.T) {
	s := newSim(t, 1)
	s.addDB("pg", "postgresql")
	s.addS3("v0", "")
	ids := map[string]string{}
	for _, c := range []struct{ name, mode, status string }{
		{"good", "success", "success"},
		{"failed", "partial", "error"},
		{"errored", "error", "error"},
		{"running", "hold", "running"},
	} {
		s.config("pg", map[string]string{"mode": c.mode})
		ids[c.name] = s.ok("manager/0", "create-backup", nil)["job-id"].(string)
		if got := s.ok("manager/0", "show-job", map[string]any{"job-id": ids[c.name]}); got["status"] != c.status {
			t.Fatalf("the %s backup: %v, want status %s", c.name, got, c.status)
		}
	}
	// Folders no job of this manager wrote: one incomplete, one complete.
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids["stranger"] = "job-20200101T000000Z-00000000"
	if _, err := st.Put(s.ctx, "pg/"+ids["stranger"]+"/started.json", strings.NewReader(`{}`), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	ids["stranger-done"] = "job-20200102T000000Z-00000000"
	dump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, "COPY t FROM stdin;\n")
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"db"}}, nil
	}
	if _, err := artefact.Backup(s.ctx, st, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: ids["stranger-done"]}, dump); err != nil {
		t.Fatal(err)
	}
	left := 0
	for k := range s.bucketKeys() {
		if ofBackup(k, "pg", ids["failed"]) {
			left++
		}
	}
	for _, name := range sortedKeys(ids) {
		s.s3.StartUpload(t, s.bucket, "pg/"+ids[name]+"/data.zst")
	}

	s.config("manager", map[string]string{"retention-count": "5"})

	got := s.s3.Uploads(t, s.bucket)
	slices.Sort(got)
	want := []string{"pg/" + ids["running"] + "/data.zst", "pg/" + ids["stranger"] + "/data.zst"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("uploads after retention = %q, want only the running and the unknown incomplete backup's %q", got, want)
	}
	keys := s.bucketKeys()
	if !keys["pg/"+ids["good"]+"/manifest.json"] || !keys["pg/"+ids["stranger-done"]+"/manifest.json"] || !keys["pg/"+ids["stranger"]+"/started.json"] {
		t.Errorf("retention deleted objects it should keep: %v", keys)
	}

	res := s.ok("manager/0", "list-jobs", map[string]any{"format": "json"})
	var deleted []deletion
	if err := json.Unmarshal([]byte(fmt.Sprint(res["deleted"])), &deleted); err != nil {
		t.Fatalf("list-jobs deleted = %v: %v", res["deleted"], err)
	}
	wantDeleted := map[string]deletion{
		ids["failed"]:        {Reason: leftoverReason, Objects: left, Uploads: 1},
		ids["errored"]:       {Reason: leftoverReason, Objects: 0, Uploads: 1},
		ids["good"]:          {Reason: uploadsCompleteReason, Objects: 0, Uploads: 1},
		ids["stranger-done"]: {Reason: uploadsCompleteReason, Objects: 0, Uploads: 1},
	}
	if len(deleted) != len(wantDeleted) {
		t.Errorf("deletions = %+v, want %d", deleted, len(wantDeleted))
	}
	for _, d := range deleted {
		w, ok := wantDeleted[d.BackupID]
		if !ok || d.By != "retention" || d.Reason != w.Reason || d.Objects != w.Objects || d.Uploads != w.Uploads || d.ArtefactPath != "pg/"+d.BackupID+"/" {
			t.Errorf("deletion %+v, want %+v", d, w)
		}
	}
	if table, _ := s.ok("manager/0", "list-jobs", nil)["deleted"].(string); !strings.Contains(table, "uploads") || !strings.Contains(table, uploadsCompleteReason) {
		t.Errorf("list-jobs deleted table:\n%s", table)
	}
	if n := s.logged("manager/0", "retention aborted the unfinished uploads of backup "+ids["good"]+" of pg ("+uploadsCompleteReason+") in pg/"+ids["good"]+"/: 1"); n != 1 {
		t.Errorf("%d log lines for the abort under the complete backup, want 1", n)
	}

	// Once the running job has ended, its upload goes too.
	s.config("pg", map[string]string{"mode": "error"})
	if got := s.ok("manager/0", "show-job", map[string]any{"job-id": ids["running"]}); got["status"] != "error" {
		t.Fatalf("the held backup once released: %v, want status error", got)
	}
	s.config("manager", map[string]string{"retention-count": "6"})
	if got := s.s3.Uploads(t, s.bucket); !slices.Equal(got, []string{"pg/" + ids["stranger"] + "/data.zst"}) {
		t.Errorf("uploads after the running job ended = %q, want only the unknown incomplete backup's", got)
	}
}

// Which backups' unfinished uploads retention may abort: never a job the
// history has waiting or running, complete or not; an ended job's always;
// a job the history does not know only when its backup is complete.
func TestUploadsAbortable(t *testing.T) {
	h := requirer.History{Records: []requirer.Record{
		{JobID: "job-a", Type: dbbackup.Backup, Status: dbbackup.Running},
		{JobID: "job-b", Type: dbbackup.Backup, Status: dbbackup.Waiting},
		{JobID: "job-c", Type: dbbackup.Backup, Status: dbbackup.Success},
		{JobID: "job-d", Type: dbbackup.Backup, Status: dbbackup.Error},
		{JobID: "job-e", Type: dbbackup.Backup, Status: dbbackup.Lost},
		{JobID: "job-f", Type: dbbackup.Restore, Status: dbbackup.Running},
	}}
	for _, tt := range []struct {
		id         string
		complete   bool
		wantOK     bool
		wantReason string
	}{
		{"job-a", false, false, ""},
		{"job-a", true, false, ""},
		{"job-b", true, false, ""},
		{"job-c", true, true, uploadsCompleteReason},
		{"job-c", false, true, uploadsEndedReason},
		{"job-d", false, true, uploadsEndedReason},
		{"job-e", false, true, uploadsEndedReason},
		{"job-f", false, false, ""},
		{"job-f", true, true, uploadsCompleteReason},
		{"job-z", false, false, ""},
		{"job-z", true, true, uploadsCompleteReason},
	} {
		reason, ok := uploadsAbortable(h, tt.id, tt.complete)
		if ok != tt.wantOK || reason != tt.wantReason {
			t.Errorf("uploadsAbortable(%s, complete %v) = %q, %v; want %q, %v", tt.id, tt.complete, reason, ok, tt.wantReason, tt.wantOK)
		}
	}
}
