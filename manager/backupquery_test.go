package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
)

// The charm checks list-backups' parameters itself, whatever the schema
// let through.
func TestBackupQueryBounds(t *testing.T) {
	for _, c := range []struct {
		q    backupQuery
		want string
	}{
		{backupQuery{Limit: 301}, "limit 301 is out of range"},
		{backupQuery{Limit: -1}, "limit -1 is out of range"},
		{backupQuery{Offset: -1}, "offset -1 is out of range"},
		{backupQuery{Offset: maxOffset + 1}, "out of range"},
		{backupQuery{State: "success,nope"}, `state "nope" is unknown`},
		{backupQuery{State: strings.Repeat("success,", 30)}, "state is too long"},
		{backupQuery{Since: "2026-13-01"}, `since "2026-13-01" is not a time`},
		{backupQuery{Until: strings.Repeat("9", 41)}, "until is too long"},
		{backupQuery{Since: "2026-12-05", Until: "2026-12-04"}, "is before since"},
	} {
		if _, err := c.q.filter(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.q, err, c.want)
		}
	}
	f, err := backupQuery{Until: "2026-12-04", State: "deleted"}.filter()
	if err != nil {
		t.Fatal(err)
	}
	if f.limit != defaultLimit || !f.showDeleted || !f.until.Equal(time.Date(2026, 12, 4, 23, 59, 59, 999999999, time.UTC)) {
		t.Errorf("filter = %+v, want the default limit, deleted shown, until the end of the day", f)
	}
}

// A page counts every match, not the deleted ones hidden, and says where
// the next page starts until the last.
func TestBackupPage(t *testing.T) {
	var rows []backup
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		r := backup{ID: "job-" + t0.Add(time.Duration(i)*time.Hour).Format("20060102T150405Z") + "-0000000" + string(rune('0'+i)), Status: "success"}
		if i%3 == 0 {
			r.Status = statusDeleted
		}
		rows = append(rows, r)
	}
	sortBackups(rows)
	if rows[0].ID[4:19] != "20261201T090000" {
		t.Fatalf("sorted: first %s, want the newest", rows[0].ID)
	}
	f, _ := backupQuery{Limit: 4}.filter()
	p := f.page(rows)
	if p.Total != 6 || p.Hidden != 4 || len(p.Rows) != 4 || p.Next != 4 {
		t.Errorf("first page = total %d hidden %d rows %d next %d", p.Total, p.Hidden, len(p.Rows), p.Next)
	}
	f.offset = 4
	if p = f.page(rows); len(p.Rows) != 2 || p.Next != 0 {
		t.Errorf("last page = rows %d next %d", len(p.Rows), p.Next)
	}
}

func TestCompatibleVersion(t *testing.T) {
	pg := func(v string) artefact.Summary {
		return artefact.Summary{JobID: "job-" + v, Engine: engine.PostgreSQL, ServerVersion: v}
	}
	my := func(v string) artefact.Summary {
		return artefact.Summary{JobID: "job-" + v, Engine: engine.MySQL, ServerVersion: v}
	}
	for _, c := range []struct {
		b, s    artefact.Summary
		refused bool
	}{
		{pg("15.4 (Ubuntu 15.4-1)"), pg("14.10"), true},
		{pg("14.10"), pg("15.4 (Ubuntu 15.4-1)"), false},
		{pg("15.4"), pg("15.1"), false},
		{pg("9.6.24"), pg("9.5.3"), true},
		{pg("9.6.24"), pg("10.1"), false},
		{my("10.11.6-MariaDB-0ubuntu0.24.04.1"), my("10.6.18-MariaDB"), true},
		{my("10.6.18-MariaDB"), my("10.11.6-MariaDB"), false},
		{my("10.11.9-MariaDB"), my("10.11.6-MariaDB"), false},
		{pg("15.4"), pg(""), false},
		{pg("devel"), pg("14.1"), false},
	} {
		err := compatibleVersion(c.b, c.s, "b")
		if (err != nil) != c.refused {
			t.Errorf("%q into %q: %v, want refused %v", c.b.ServerVersion, c.s.ServerVersion, err, c.refused)
		}
		if err != nil && (!strings.Contains(err.Error(), c.b.ServerVersion) || !strings.Contains(err.Error(), c.s.ServerVersion)) {
			t.Errorf("the refusal names neither version: %v", err)
		}
	}
}

func TestProgressETA(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		msg     string
		started time.Time
		want    string
	}{
		{"restore job-x 40% 120 MB at 45 MB/s", t0, "15m0s"},
		{"dumping: 42% (simulated)", t0, "13m49s"},
		{"backup job-x 120 MB at 45 MB/s", t0, ""},
		{"restore job-x 0% 0 B", t0, ""},
		{"restore job-x 100% 1 GB", t0, ""},
		{"restore job-x 40% 120 MB", time.Time{}, ""},
		{"restore job-x 400% 1 GB", t0, ""},
		{"restore job-x10% 1 GB", t0, ""},
	} {
		got := ""
		if eta, ok := progressETA(c.msg, c.started, t0.Add(10*time.Minute)); ok {
			got = eta.String()
		}
		if got != c.want {
			t.Errorf("progressETA(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
