// Command demo runs the main job on embedded defaults: in a jujusim model
// it deploys PostgreSQL and MariaDB, each with the database-backup-agent
// charm, and the database-backup-manager charm with a versitygw S3 server,
// writes sample data, runs create-backup and list-backups, breaks the
// data, runs restore and shows the data back, for each database, then a
// schedule with retention, printing each step and statement as an admin
// sees it (`juju run` output, `juju status`). It exits non-zero if any
// step fails.
//
// It needs PostgreSQL's and MariaDB's server binaries and versitygw (make
// demo installs them: scripts/install-databases.sh,
// scripts/install-s3-servers.sh).
//
// Usage: go run ./cmd/demo
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
)

const usageText = `Usage: demo
       demo shell PATH-TO-DBBACKUP

demo runs the main job on embedded defaults in a jujusim model: deploys
PostgreSQL and MariaDB, each with the database-backup-agent charm, and the
database-backup-manager charm with a versitygw S3 server; for each it backs
up, lists, breaks the data and restores it, then schedules backups with
retention, printing each step as an admin sees it. Needs PostgreSQL's and
MariaDB's server binaries and versitygw (make demo installs them).

demo shell shows the engine room from a shell with the dbbackup binary
given: throwaway PostgreSQL, MariaDB and versitygw servers; for each
database dbbackup backup, list, verify and restore, and a damaged backup
refused with the database untouched.

Exit codes: 0 every step behaved as expected; 1 a step failed; 2 unusable
command line.
`

// usage handles the command line: the demo takes none but --help, or
// "shell" and a binary. It returns the exit code to stop with, or -1 to
// run the demo.
func usage(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		return -1
	case len(args) == 2 && args[0] == "shell" && args[1] != "":
		return shellMain(args[1])
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help"):
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "demo: unexpected argument(s) %q\n\n%s", args, usageText)
		return 2
	}
}

func main() {
	if code := usage(os.Args[1:], os.Stdout, os.Stderr); code >= 0 {
		os.Exit(code)
	}
	var out bytes.Buffer
	w := io.MultiWriter(os.Stdout, &out)
	var secrets []string
	err := testenv.Run(func(p *testenv.Program) error {
		d := &demo{p: p, w: w}
		defer func() { secrets = d.secrets }()
		return d.run()
	})
	jujusim.RemoveBuiltTool()
	for _, s := range secrets {
		if s != "" && strings.Contains(out.String(), s) {
			fmt.Fprintln(os.Stderr, "demo: FAILED: a credential appeared in the output")
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(w, "\ndemo: every step behaved as expected")
}

// demo is one run of the flow.
type demo struct {
	clock   *jujusim.ManualClock
	p       *testenv.Program
	w       io.Writer
	s       *model.Stack
	secrets []string
	ops     int
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.w, format, args...) }

func (d *demo) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d.printf("== building the charms and starting PostgreSQL, MariaDB and a versitygw S3 server on 127.0.0.1\n")
	built := time.Now()
	for _, c := range []string{"database-backup-manager", "database-backup-manager/testdata/s3stub", "database-backup-agent"} {
		model.Charm(d.p, c)
	}
	d.printf("charms built in %s\n", time.Since(built).Round(time.Millisecond))
	began := time.Now()
	// A manual clock, set to now, lets the schedule's part move days in
	// seconds; the agent's runner does its work on the wall clock.
	d.clock = jujusim.NewManualClock(time.Now().UTC().Truncate(time.Second))
	d.s = model.Start(ctx, d.p, model.Options{Postgres: true, MariaDB: true, Model: jujusim.Options{Clock: d.clock}})
	s := d.s
	d.secrets = s.Secrets()
	pg := s.PG
	d.printf("\n")
	for _, line := range deployCommands(target{Bucket: model.Bucket, Endpoint: s.S3.Endpoint, Region: s.S3.Region,
		PG: server{Host: pg.Host, Port: pg.Port, User: pg.User}, Maria: server{Host: s.Maria.Host, Port: s.Maria.Port, User: s.Maria.User}}) {
		d.printf("$ %s\n", line)
	}
	d.status()

	d.printf("\n== sample data\n")
	pg.SQL(d.p, "postgres", "CREATE DATABASE shop")
	d.psql(`CREATE TABLE customers (id serial PRIMARY KEY, name text, city text);
INSERT INTO customers (name, city) VALUES ('Zoë', 'Zürich'), ('Ana', 'Lisboa'), ('Kenji', '東京');
INSERT INTO customers (name, city) SELECT 'customer ' || i, 'city ' || (i % 50) FROM generate_series(1, 20000) i;`)
	want := pg.Checksums(d.p, "shop")
	d.show()

	leader := s.Leader()
	res, err := d.action(leader, "create-backup", map[string]any{"application": model.Postgres}, true)
	if err != nil {
		return err
	}
	backupID := fmt.Sprint(res["backup-id"])
	d.statusOnceRunning()
	if err := d.wait(leader, backupID); err != nil {
		return err
	}
	if _, err := d.action(leader, "list-backups", nil, true); err != nil {
		return err
	}
	d.status()

	d.printf("\n== breaking the data\n")
	d.psql("DELETE FROM customers WHERE id > 3; UPDATE customers SET city = 'nowhere'")
	d.show()
	if len(testenv.DiffSums(want, pg.Checksums(d.p, "shop"))) == 0 {
		return fmt.Errorf("the data did not change")
	}

	if _, err := d.action(leader, "restore", map[string]any{"backup-id": "job-20000101T000000Z-00000000"}, false); err != nil {
		return err
	}
	res, err = d.action(leader, "restore", map[string]any{"backup-id": backupID}, true)
	if err != nil {
		return err
	}
	d.statusOnceRunning()
	if err := d.wait(leader, fmt.Sprint(res["job-id"])); err != nil {
		return err
	}
	d.printf("\n== the data is back\n")
	d.show()
	if diff := testenv.DiffSums(want, pg.Checksums(d.p, "shop")); len(diff) > 0 {
		return fmt.Errorf("restored data differs from the backup: %v", diff)
	}
	if _, err := d.action(leader, "list-jobs", nil, true); err != nil {
		return err
	}
	d.status()
	if err := d.mariadb(leader); err != nil {
		return err
	}
	if err := d.schedule(leader); err != nil {
		return err
	}
	d.printf("\nthe flow took %s once built\n", time.Since(began).Round(100*time.Millisecond))
	return nil
}

// schedule sets a daily schedule with retention-count=2, moves the
// model's clock over three due times and shows the scheduled backups and
// the deletions.
func (d *demo) schedule(leader string) error {
	d.printf("\n== scheduled backups and retention\n")
	d.printf("$ %s\n", scheduleCommand())
	if err := d.s.Config(model.Manager, map[string]string{"backup-schedule": demoSchedule, "retention-count": "2"}); err != nil {
		return err
	}
	d.status()
	now := d.clock.Now()
	next := time.Date(now.Year(), now.Month(), now.Day(), 3, 0, 30, 0, time.UTC)
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	for i := 0; i < 3; i++ {
		d.clock.Advance(next.Sub(d.clock.Now()))
		d.printf("\n# jujusim: the model's clock moves to %s (on a real model the manager's ticker wakes at the due time)\n", next.Format(time.RFC3339))
		d.s.M.UpdateStatus()
		d.s.Settle()
		ids, err := d.s.Scheduled()
		if err != nil {
			return err
		}
		if len(ids) != i+1 {
			return fmt.Errorf("at %s: %d scheduled backups, want %d", next.Format(time.RFC3339), len(ids), i+1)
		}
		id := ids[i]
		res, err := d.s.Wait(id, 2*time.Minute)
		if err != nil {
			return err
		}
		if res["status"] != "success" {
			return fmt.Errorf("scheduled backup %s ended %v: %v", id, res["status"], res["message"])
		}
		d.printf("scheduled backup %s: success\n", id)
		next = next.Add(24 * time.Hour)
	}
	res, err := d.action(leader, "list-jobs", nil, true)
	if err != nil {
		return err
	}
	if del, _ := res["deleted"].(string); strings.Count(del, "retention-count=2") != 2 {
		return fmt.Errorf("retention-count=2 over four backups should have deleted two, list-jobs shows:\n%s", del)
	}
	if _, err := d.action(leader, "list-backups", nil, true); err != nil {
		return err
	}
	d.status()
	return nil
}

// mariadb does for the MariaDB application what the flow did for
// PostgreSQL: sample data, create-backup, the data broken, restore, the
// data back.
func (d *demo) mariadb(leader string) error {
	m := d.s.Maria
	d.printf("\n== MariaDB beside it: the same manager, another application\n")
	m.SQL(d.p, "", "CREATE DATABASE shop")
	d.mariaSQL(`CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name text, city text) CHARACTER SET utf8mb4;
INSERT INTO customers (name, city) VALUES ('Zoë', 'Zürich'), ('Ana', 'Lisboa'), ('Kenji', '東京');
INSERT INTO customers (name, city) SELECT CONCAT('customer ', seq), CONCAT('city ', seq % 50) FROM seq_1_to_20000;`)
	want := m.Checksums(d.p, "shop")
	d.showMaria()
	res, err := d.action(leader, "create-backup", map[string]any{"application": model.MariaDB}, true)
	if err != nil {
		return err
	}
	backupID := fmt.Sprint(res["backup-id"])
	if err := d.wait(leader, backupID); err != nil {
		return err
	}
	d.mariaSQL("DELETE FROM customers WHERE id > 3; UPDATE customers SET city = 'nowhere'")
	d.showMaria()
	if len(testenv.DiffSums(want, m.Checksums(d.p, "shop"))) == 0 {
		return fmt.Errorf("the MariaDB data did not change")
	}
	res, err = d.action(leader, "restore", map[string]any{"backup-id": backupID}, true)
	if err != nil {
		return err
	}
	if err := d.wait(leader, fmt.Sprint(res["job-id"])); err != nil {
		return err
	}
	d.showMaria()
	if diff := testenv.DiffSums(want, m.Checksums(d.p, "shop")); len(diff) > 0 {
		return fmt.Errorf("restored MariaDB data differs from the backup: %v", diff)
	}
	if _, err := d.action(leader, "list-backups", nil, true); err != nil {
		return err
	}
	d.status()
	return nil
}

// psql runs statements in PostgreSQL's shop database, printing them as an
// admin would type them.
func (d *demo) psql(sql string) {
	d.printf("$ psql shop -c \"%s\"\n", strings.Join(strings.Fields(sql), " "))
	d.s.PG.SQL(d.p, "shop", sql)
}

// mariaSQL is psql for MariaDB's shop database.
func (d *demo) mariaSQL(sql string) {
	d.printf("$ mariadb shop -e \"%s\"\n", strings.Join(strings.Fields(sql), " "))
	d.s.Maria.SQL(d.p, "shop", sql)
}

// showMaria prints MariaDB's sample data as the mariadb client would.
func (d *demo) showMaria() {
	d.printf("$ mariadb shop -e \"SELECT count(*), ... FROM customers\"\n")
	d.printf("%s", d.s.Maria.SQL(d.p, "shop", "SELECT CONCAT(count(*), ' customers; first: ', GROUP_CONCAT(IF(id <= 3, CONCAT(name, ' in ', city), NULL) ORDER BY id SEPARATOR ', ')) FROM customers"))
}

// show prints the sample data as psql would.
func (d *demo) show() {
	d.printf("$ psql shop -c \"SELECT count(*), ... FROM customers\"\n")
	d.printf("%s", d.s.PG.SQL(d.p, "shop", "SELECT count(*) || ' customers; first: ' || string_agg(name || ' in ' || city, ', ' ORDER BY id) FILTER (WHERE id <= 3) FROM customers"))
}

// action runs an action as `juju run` does and prints its output; ok says
// whether it must complete (else it must fail).
func (d *demo) action(unit, name string, params map[string]any, ok bool) (map[string]any, error) {
	cmd := runCommand(unit, name, params)
	d.printf("\n$ %s\n", cmd)
	res, err := d.s.Run(unit, name, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	d.ops += 2
	d.printf("Running operation %d with 1 task\n  - task %d on unit-%s\n\nWaiting for task %d...\n", d.ops-1, d.ops, strings.ReplaceAll(unit, "/", "-"), d.ops)
	if res.Status != "completed" {
		d.printf("Action id %d failed: %s\n", d.ops, res.Message)
		if ok {
			return nil, fmt.Errorf("%s failed: %s", cmd, res.Message)
		}
		return nil, nil
	}
	printResults(d.w, res.Results)
	if !ok {
		return nil, fmt.Errorf("%s completed, but it should have been refused", cmd)
	}
	return res.Results, nil
}

// wait follows a job with show-job until it ends; it must succeed.
func (d *demo) wait(unit, id string) error {
	res, err := d.s.Wait(id, 2*time.Minute)
	if err != nil {
		return err
	}
	if res["status"] != "success" {
		return fmt.Errorf("job %s ended %v: %v", id, res["status"], res["message"])
	}
	_, err = d.action(unit, "show-job", map[string]any{"job-id": id}, true)
	return err
}

// statusOnceRunning waits a few seconds for the manager to tell a job
// running (or finished), as an admin polling juju status would, then
// prints the status.
func (d *demo) statusOnceRunning() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d.s.Settle()
		_, msg := d.s.M.UnitStatus(d.s.Leader())
		if strings.Contains(msg, " running on ") || strings.HasPrefix(msg, "last ") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.status()
}

// status prints `juju status` as a table.
func (d *demo) status() {
	d.printf("\n$ juju status\n")
	printStatus(d.w, d.s.M, []string{model.Manager, model.MariaDB, model.Postgres, model.S3})
}
