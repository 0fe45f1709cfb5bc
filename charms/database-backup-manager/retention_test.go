package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
