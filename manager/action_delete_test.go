package manager

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// bucketKeys lists every object key of the test bucket.
func (s *sim) bucketKeys() map[string]bool {
	s.t.Helper()
	st, err := s3.New(s.s3.StorageConfig(s.bucket), s3.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	keys := map[string]bool{}
	for obj, err := range st.List(s.ctx, "", store.ListOptions{Recursive: true}) {
		if err != nil {
			s.t.Fatal(err)
		}
		keys[obj.Key] = true
	}
	return keys
}

// ofBackup reports whether key is an object of backup id of scope: under
// its folder, its index entry, or its card.
func ofBackup(key, scope, id string) bool {
	return strings.HasPrefix(key, scope+"/"+id+"/") || key == scope+"/_index/"+id ||
		strings.HasPrefix(key, scope+"/_cards/"+id+"~")
}

// deletes runs delete-backup on unit and checks that it removed every
// object of the backup and nothing else: the bucket after is the bucket
// before without the backup's objects.
func (s *sim) deletes(unit, scope, id string, force bool) map[string]any {
	s.t.Helper()
	before := s.bucketKeys()
	var want []string
	for k := range before {
		if ofBackup(k, scope, id) {
			want = append(want, k)
		}
	}
	if len(want) < 3 {
		s.t.Fatalf("backup %s has %d objects before delete-backup, want at least a manifest, an index entry and data: %v", id, len(want), want)
	}
	params := map[string]any{"backup-id": id}
	if force {
		params["force"] = true
	}
	res := s.ok(unit, "delete-backup", params)
	after := s.bucketKeys()
	var gone, added []string
	for k := range before {
		if !after[k] {
			gone = append(gone, k)
		}
	}
	for k := range after {
		if !before[k] {
			added = append(added, k)
		}
	}
	slices.Sort(want)
	slices.Sort(gone)
	if !slices.Equal(gone, want) || len(added) > 0 {
		s.t.Errorf("delete-backup %s: removed %v, added %v; want removed exactly %v", id, gone, added, want)
	}
	if res["deleted"] != scope+"/"+id+"/" || res["objects"] != strconv.Itoa(len(want)) {
		s.t.Errorf("delete-backup %s results = %v, want deleted %s/%s/ and %d objects", id, res, scope, id, len(want))
	}
	return res
}

// delete-backup: removes every object of the backup and nothing else;
// refuses the non-leader, bad and unknown ids, a restore job, a running
// backup, a backup a running restore uses, and the only successful backup
// without force; notes the deletion in the history.
func TestDeleteBackup(t *testing.T) {
	s := newSim(t, 2)
	s.addS3("v0", "")
	s.addDB("pg", "postgresql")
	s.addDB("maria", "mysql")
	leader := s.m.Leader("manager")
	other := "manager/0"
	if leader == other {
		other = "manager/1"
	}
	var outputs []string
	refused := func(unit string, params map[string]any, want string) {
		t.Helper()
		res := s.run(unit, "delete-backup", params)
		outputs = append(outputs, fmt.Sprint(res))
		if res.Status != "failed" || !strings.Contains(res.Message, want) {
			t.Errorf("delete-backup %v: got %s %q, want failed with %q", params, res.Status, res.Message, want)
		}
	}
	b1 := s.ok(leader, "create-backup", map[string]any{"application": "pg"})["job-id"].(string)
	b2 := s.ok(leader, "create-backup", map[string]any{"application": "pg"})["job-id"].(string)
	m1 := s.ok(leader, "create-backup", map[string]any{"application": "maria"})["job-id"].(string)

	refused(other, map[string]any{"backup-id": b2}, "not the leader")
	refused(leader, map[string]any{"backup-id": "../etc"}, "is not a backup id")
	refused(leader, map[string]any{"backup-id": "job-20990101T000000Z-00000000"}, "not found in the job history or in bucket")
	if _, err := s.m.RunAction(s.ctx, leader, "delete-backup", nil); err == nil || !strings.Contains(err.Error(), "backup-id") {
		t.Errorf("delete-backup without backup-id: %v", err)
	}

	// A running restore holds its backup; its own id is not a backup.
	s.config("pg", map[string]string{"mode": "hold"})
	rid := s.ok(leader, "restore", map[string]any{"backup-id": b1})["job-id"].(string)
	refused(leader, map[string]any{"backup-id": b1, "force": true}, "restore "+rid+" of pg is running on pg/0")
	refused(leader, map[string]any{"backup-id": rid}, "is a restore job, not a backup")
	// A running backup cannot be deleted either.
	b3 := s.ok(leader, "create-backup", map[string]any{"application": "pg"})["job-id"].(string)
	refused(leader, map[string]any{"backup-id": b3, "force": true}, "is still running")
	s.config("pg", map[string]string{"mode": "success"})
	s.m.UpdateStatus()
	s.settle()
	for _, id := range []string{rid, b3} {
		if got := s.ok(leader, "show-job", map[string]any{"job-id": id}); got["status"] != "success" {
			t.Fatalf("show-job %s = %v", id, got)
		}
	}

	res := s.deletes(leader, "pg", b2, false)
	outputs = append(outputs, fmt.Sprint(res))
	show := s.ok(leader, "show-job", map[string]any{"job-id": b2})
	if show["status"] != "success" || !strings.HasPrefix(show["message"].(string), deletedNote) {
		t.Errorf("show-job of the deleted backup = %v", show)
	}
	// By default list-backups hides the deleted backup and says so;
	// show-deleted=true lists it as deleted.
	for _, showDeleted := range []bool{false, true} {
		res := s.ok(leader, "list-backups", map[string]any{"format": "json", "show-deleted": showDeleted})
		var rows []backup
		if err := json.Unmarshal([]byte(res["backups"].(string)), &rows); err != nil {
			t.Fatal(err)
		}
		statuses := map[string]string{}
		for _, r := range rows {
			statuses[r.ID] = r.Status
		}
		want := map[string]string{b1: "success", b3: "success", m1: "success"}
		if showDeleted {
			want[b2] = statusDeleted
		} else if res["deleted-hidden"] != "1" {
			t.Errorf("list-backups deleted-hidden = %v, want 1", res["deleted-hidden"])
		}
		if !maps.Equal(statuses, want) {
			t.Errorf("list-backups show-deleted=%v statuses = %v, want %v", showDeleted, statuses, want)
		}
	}
	refused(leader, map[string]any{"backup-id": b2}, "nothing to delete")

	// b3 then b1: the last successful backup of pg needs force.
	outputs = append(outputs, fmt.Sprint(s.deletes(leader, "pg", b3, false)))
	refused(leader, map[string]any{"backup-id": b1}, "only successful backup of pg")
	refused(leader, map[string]any{"backup-id": m1}, "only successful backup of maria")
	outputs = append(outputs, fmt.Sprint(s.deletes(leader, "pg", b1, true)))
	// maria's backup was never touched: still restorable.
	if got := s.ok(leader, "restore", map[string]any{"backup-id": m1})["job-id"].(string); s.ok(leader, "show-job", map[string]any{"job-id": got})["status"] != "success" {
		t.Errorf("restore of maria's backup after the deletions failed")
	}

	for _, out := range outputs {
		for _, canary := range []string{s.s3.AccessKey, s.s3.SecretKey} {
			if strings.Contains(out, canary) {
				t.Errorf("a credential appears in delete-backup's output: %.200q", out)
			}
		}
	}
	s.noCanary()
}
