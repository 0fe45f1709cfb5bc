package e2e_test

import (
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// Restore into another application (the "restore into a new cluster"
// case): application A's backup restored into a fresh application B with
// its own server and agent, for PostgreSQL and MariaDB; B gets A's data,
// A is untouched; a backup of one engine into a fresh application of the
// other fails with the engines named and leaves that database as it was.
func TestRestoreIntoAnotherApplication(t *testing.T) {
	s := start(t, model.Options{Postgres: true, MariaDB: true})
	s.PG.SQL(t, "postgres", "CREATE DATABASE shop")
	s.PG.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 200) g")
	s.Maria.SQL(t, "", "CREATE DATABASE crm; CREATE TABLE crm.people (id int primary key, name text); INSERT INTO crm.people VALUES (1,'Zoë'),(2,'Ana')")
	pgWant, mariaWant := s.PG.Checksums(t, "shop"), s.Maria.Checksums(t, "crm")
	leader := s.Leader()
	pgID := ok(t, s, leader, "create-backup", map[string]any{"application": model.Postgres})["job-id"].(string)
	mariaID := ok(t, s, leader, "create-backup", map[string]any{"application": model.MariaDB})["job-id"].(string)
	wait(t, s, pgID)
	wait(t, s, mariaID)

	// B: fresh servers, each with its own agent application.
	pgB, mariaB := testenv.StartPostgres(t), testenv.StartMariaDB(t)
	s.DeployAgent("postgresql-b", "postgresql", pgB.Host, pgB.Port, pgB.User, pgB.Password)
	s.DeployAgent("mariadb-b", "mysql", mariaB.Host, mariaB.Port, mariaB.User, mariaB.Password)
	s.Settle()
	pgB.SQL(t, "postgres", "CREATE DATABASE other; ")
	s.PG.SQL(t, "shop", "INSERT INTO items VALUES (1000, 'after the backup')")
	pgNow := s.PG.Checksums(t, "shop")

	res := ok(t, s, leader, "restore", map[string]any{"backup-id": pgID, "application": "postgresql-b"})
	if res["application"] != "postgresql-b" {
		t.Errorf("restore results = %v", res)
	}
	wait(t, s, res["job-id"].(string))
	if diff := testenv.DiffSums(pgWant, pgB.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("postgresql-b does not hold postgresql's backup: %v", diff)
	}
	if diff := testenv.DiffSums(pgNow, s.PG.Checksums(t, "shop")); len(diff) > 0 {
		t.Errorf("the restore into postgresql-b touched postgresql: %v", diff)
	}

	res = ok(t, s, leader, "restore", map[string]any{"backup-id": mariaID, "application": "mariadb-b"})
	wait(t, s, res["job-id"].(string))
	if diff := testenv.DiffSums(mariaWant, mariaB.Checksums(t, "crm")); len(diff) > 0 {
		t.Errorf("mariadb-b does not hold mariadb's backup: %v", diff)
	}

	// Across engines into an application with no backup of its own: the
	// manager cannot know its engine, the agent refuses with both named.
	otherBefore := pgB.Checksums(t, "other")
	cross := ok(t, s, leader, "restore", map[string]any{"backup-id": mariaID, "application": "postgresql-b"})["job-id"].(string)
	got, err := s.Wait(cross, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := got["message"].(string); got["status"] != "error" || !strings.Contains(msg, "holds a mysql backup; it cannot be restored into") {
		t.Errorf("a MariaDB backup restored into postgresql-b: %v", got)
	}
	if diff := testenv.DiffSums(otherBefore, pgB.Checksums(t, "other")); len(diff) > 0 {
		t.Errorf("the refused restore touched postgresql-b: %v", diff)
	}
	// Once B has a backup of its own, the manager refuses before any job.
	bID := ok(t, s, leader, "create-backup", map[string]any{"application": "postgresql-b"})["job-id"].(string)
	wait(t, s, bID)
	refused(t, s, leader, "restore", map[string]any{"backup-id": mariaID, "application": "postgresql-b"}, "is a mysql backup, but postgresql-b runs postgresql")
	noCanary(t, s)
}

// A PostgreSQL 15 backup into an application that runs PostgreSQL 14 (its
// own backup says so): refused by the manager with both versions named,
// before any job reaches the agent.
func TestRestoreIntoAnOlderReleaseRefused(t *testing.T) {
	s := start(t, model.Options{Postgres: true})
	old := testenv.StartPostgresAt(t, testenv.Postgres14BinDir())
	s.DeployAgent("postgresql-14", "postgresql", old.Host, old.Port, old.User, old.Password)
	s.Settle()
	leader := s.Leader()
	newID := ok(t, s, leader, "create-backup", map[string]any{"application": model.Postgres})["job-id"].(string)
	oldID := ok(t, s, leader, "create-backup", map[string]any{"application": "postgresql-14"})["job-id"].(string)
	wait(t, s, newID)
	wait(t, s, oldID)
	refused(t, s, leader, "restore", map[string]any{"backup-id": newID, "application": "postgresql-14"}, "but postgresql-14 runs the older 14.")
	for _, r := range history(t, s).Records {
		if r.Application == "postgresql-14" && r.Type == "restore" {
			t.Errorf("a refused restore was requested: %+v", r)
		}
	}
}
