package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// start starts a stack for a test and prints what happened on failure.
func start(t *testing.T, opts model.Options) *model.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	s := model.Start(ctx, t, opts)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline:\n%s\nstatus:\n%s", s.M.TimelineString("hook", "data", "exec", "log", "action"), s.M.Status())
			for _, app := range []string{model.Postgres, model.MariaDB} {
				for _, u := range s.M.Units(app) {
					log, _ := os.ReadFile(filepath.Join(s.Journal(u).Dir, "runner.log"))
					t.Logf("%s runner.log:\n%s", u, log)
				}
			}
		}
	})
	return s
}

func ok(t *testing.T, s *model.Stack, unit, action string, params map[string]any) map[string]any {
	t.Helper()
	res, err := s.Run(unit, action, params)
	if err != nil {
		t.Fatalf("%s %v: %v", action, params, err)
	}
	if res.Status != "completed" {
		t.Fatalf("%s %v: %s %q", action, params, res.Status, res.Message)
	}
	return res.Results
}

func refused(t *testing.T, s *model.Stack, unit, action string, params map[string]any, want string) {
	t.Helper()
	res, err := s.Run(unit, action, params)
	if err != nil || res.Status != "failed" || !strings.Contains(res.Message, want) {
		t.Errorf("%s %v: %v %s %q, want failed with %q", action, params, err, res.Status, res.Message, want)
	}
}

func wait(t *testing.T, s *model.Stack, id string) map[string]any {
	t.Helper()
	res, err := s.Wait(id, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res["status"] != "success" {
		t.Fatalf("job %s: %v", id, res)
	}
	return res
}

// Two database applications related at once, PostgreSQL and MariaDB, with
// the real agent: a backup of each; a restore of one leaves the other
// untouched; a restore across engines is refused; no credential shows.
func TestPostgresAndMariaDBTogether(t *testing.T) {
	s := start(t, model.Options{Postgres: true, MariaDB: true})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 300) g")
	s.Maria.SQL(t, "", "CREATE DATABASE crm; CREATE TABLE crm.people (id int primary key, name text); INSERT INTO crm.people VALUES (1,'Zoë'),(2,'Ana')")
	pgWant, mariaWant := s.PG.Checksums(t, "shop"), s.Maria.Checksums(t, "crm")
	leader := s.Leader()

	refused(t, s, leader, "create-backup", nil, "several database applications are related (mariadb, postgresql)")
	pgID := ok(t, s, leader, "create-backup", map[string]any{"application": model.Postgres})["job-id"].(string)
	mariaID := ok(t, s, leader, "create-backup", map[string]any{"application": model.MariaDB})["job-id"].(string)
	wait(t, s, pgID)
	wait(t, s, mariaID)

	list := ok(t, s, leader, "list-backups", nil)["backups"].(string)
	for _, want := range []string{pgID, mariaID, "postgresql", "mysql", "success"} {
		if !strings.Contains(list, want) {
			t.Errorf("list-backups lacks %q:\n%s", want, list)
		}
	}
	refused(t, s, leader, "restore", map[string]any{"backup-id": mariaID, "application": model.Postgres}, "is a mysql backup, but postgresql runs postgresql")

	s.PG.SQL(t, "shop", "DELETE FROM items WHERE id > 10")
	s.Maria.SQL(t, "", "INSERT INTO crm.people VALUES (3,'after the backup')")
	mariaNow := s.Maria.Checksums(t, "crm")
	rid := ok(t, s, leader, "restore", map[string]any{"backup-id": pgID})["job-id"].(string)
	wait(t, s, rid)
	if diff := testenv.DiffSums(pgWant, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("PostgreSQL not restored: %v", diff)
	}
	if diff := testenv.DiffSums(mariaNow, s.Maria.Checksums(t, "crm")); len(diff) > 0 {
		t.Errorf("the restore of postgresql touched MariaDB: %v", diff)
	}
	// And the other way round: restore MariaDB, PostgreSQL stays as it is.
	pgNow := s.PG.Checksums(t, "shop")
	mid := ok(t, s, leader, "restore", map[string]any{"backup-id": mariaID})["job-id"].(string)
	wait(t, s, mid)
	if diff := testenv.DiffSums(mariaWant, s.Maria.Checksums(t, "crm")); len(diff) > 0 {
		t.Errorf("MariaDB not restored: %v", diff)
	}
	if diff := testenv.DiffSums(pgNow, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("the restore of mariadb touched PostgreSQL: %v", diff)
	}
	if st, msg := s.M.UnitStatus(leader); st != "active" || !strings.HasPrefix(msg, "last restore of mariadb") {
		t.Errorf("manager status = %s %q", st, msg)
	}
	noCanary(t, s)
}

// A leader change mid-backup: the job completes, the new leader reports
// it, nothing is requested twice.
func TestLeaderChangeMidBackup(t *testing.T) {
	s := start(t, model.Options{Postgres: true, ManagerUnits: 2})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, repeat('item ' || g, 20) FROM generate_series(1, 100000) g")
	old := s.Leader()
	id := ok(t, s, old, "create-backup", nil)["job-id"].(string)
	next := "manager/0"
	if old == next {
		next = "manager/1"
	}
	if st := historyStatus(t, s, id); st.Terminal() {
		t.Fatalf("the backup finished before the leader change (%s): the test needs more data", st)
	}
	if err := s.M.SetLeader(s.Ctx, next); err != nil {
		t.Fatal(err)
	}
	res := wait(t, s, id)
	if res["unit"] != "postgresql/0" {
		t.Errorf("show-job = %v", res)
	}
	if st, msg := s.M.UnitStatus(next); st != "active" || msg != "last backup of postgresql just now: success" {
		t.Errorf("new leader's status = %s %q", st, msg)
	}
	jobs := ok(t, s, next, "list-jobs", map[string]any{"format": "json"})["jobs"].(string)
	if n := strings.Count(jobs, `"job-id"`); n != 1 {
		t.Errorf("list-jobs has %d jobs, want 1: %s", n, jobs)
	}
	list := ok(t, s, next, "list-backups", map[string]any{"format": "json"})["backups"].(string)
	if n := strings.Count(list, `"backup-id"`); n != 1 {
		t.Errorf("list-backups shows %d backups, want 1:\n%s", n, list)
	}
	// The history survives the removal of the old leader and of the
	// database relation; clear-history then empties it.
	if err := s.M.RemoveUnit(s.Ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := s.M.RemoveRelation(s.Ctx, s.Relations[model.Postgres]); err != nil {
		t.Fatal(err)
	}
	s.Settle()
	if jobs := ok(t, s, next, "list-jobs", nil)["jobs"].(string); !strings.Contains(jobs, id) {
		t.Errorf("history lost:\n%s", jobs)
	}
	if got := ok(t, s, next, "clear-history", nil); got["removed"] != "1" {
		t.Errorf("clear-history = %v", got)
	}
	if jobs := ok(t, s, next, "list-jobs", nil)["jobs"].(string); strings.Contains(jobs, id) {
		t.Errorf("history not cleared:\n%s", jobs)
	}
	if list := ok(t, s, next, "list-backups", nil)["backups"].(string); !strings.Contains(list, id) {
		t.Errorf("the bucket's backup is not listed after clear-history:\n%s", list)
	}
	noCanary(t, s)
}

// historyStatus returns the status of job id in the manager's history.
func historyStatus(t *testing.T, s *model.Stack, id string) dbbackup.Status {
	t.Helper()
	r, found := history(t, s).Find(id)
	if !found {
		t.Fatalf("job %s not in the history", id)
	}
	return r.Status
}

// history reads the manager's job history from its peer databag.
func history(t *testing.T, s *model.Stack) requirer.History {
	t.Helper()
	h, err := s.History()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// noCanary fails when a credential appears in the manager's outputs:
// status, logs, action results, hook output, and every databag it writes,
// the jobs it requests included (the S3 keys travel as a Juju secret).
func noCanary(t *testing.T, s *model.Stack) {
	t.Helper()
	texts := []string{s.M.Status()}
	for _, e := range s.M.Timeline() {
		if strings.HasPrefix(e.Unit, model.Manager+"/") {
			texts = append(texts, e.Text)
		}
	}
	for _, id := range s.Relations {
		texts = append(texts, fmt.Sprint(s.M.RelationData(id, model.Manager)))
	}
	for _, secret := range s.Secrets() {
		for _, text := range texts {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("a credential leaked: %.200s", text)
			}
		}
	}
}
