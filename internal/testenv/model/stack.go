// Package model is the test kit's model in a box: it deploys the whole
// system in jujusim, with real binaries: the database-backup-manager charm,
// one database-backup-agent application per real database server
// (PostgreSQL, MariaDB), an s3-integrator stand-in and a real versitygw S3
// server, all started through the kit's servers (internal/testenv). The
// end-to-end tests (charms/e2e), the charms' tests and cmd/demo use it.
package model

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup/requirer"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/runner"
)

// Application names in the model.
const (
	// Manager is the database-backup-manager application.
	Manager = "manager"
	// S3 is the s3-integrator stand-in.
	S3 = "s3-integrator"
	// Postgres is the agent beside the PostgreSQL server.
	Postgres = "postgresql"
	// MariaDB is the agent beside the MariaDB server.
	MariaDB = "mariadb"
	// Bucket is the bucket the backups go to.
	Bucket = "backups"
)

// Options says what to deploy.
type Options struct {
	// Postgres and MariaDB start those servers, each with an agent.
	Postgres, MariaDB bool
	// ManagerUnits is the manager's scale; 1 when zero.
	ManagerUnits int
	// S3Mode is "v0" (plain fields) or "v1" (secret-extra); v0 when empty.
	S3Mode string
	// Model tunes the jujusim model.
	Model jujusim.Options
}

// Stack is the deployed system.
type Stack struct {
	// M is the model.
	M *jujusim.Model
	// S3 is the S3 server.
	S3 *testenv.S3Server
	// PG and Maria are the database servers, nil when not started.
	PG    *testenv.Postgres
	Maria *testenv.MariaDB
	// Relations holds the relation id of each agent application with the manager.
	Relations map[string]int

	// Ctx is the context the stack was started with.
	Ctx context.Context

	t testenv.T
}

// Start starts the servers, builds the charms, deploys and relates them
// and settles the model. Everything stops in t's cleanups.
func Start(ctx context.Context, t testenv.T, opts Options) *Stack {
	t.Helper()
	s := &Stack{t: t, Ctx: ctx, Relations: map[string]int{}}
	s.S3 = testenv.StartVersityGW(t)
	s.S3.CreateBucket(t, Bucket)
	if opts.Postgres {
		s.PG = testenv.StartPostgres(t)
	}
	if opts.MariaDB {
		s.Maria = testenv.StartMariaDB(t)
	}
	m, err := jujusim.NewModel(opts.Model)
	if err != nil {
		t.Fatalf("cannot start the model: %v", err)
	}
	s.M = m
	t.Cleanup(func() {
		s.stopRunners()
		m.Close()
	})
	units := max(opts.ManagerUnits, 1)
	s.Must(m.Deploy(ctx, Manager, Charm(t, "database-backup-manager"), units))
	s.Must(m.Config(ctx, Manager, map[string]string{"metrics-address": testenv.LoopbackAddr(t)}))
	s.Must(m.Deploy(ctx, S3, Charm(t, "database-backup-manager/testdata/s3stub"), 1))
	mode := opts.S3Mode
	if mode == "" {
		mode = "v0"
	}
	s.Must(m.Config(ctx, S3, map[string]string{
		"mode": mode, "bucket": Bucket, "endpoint": s.S3.Endpoint, "region": s.S3.Region,
		"access-key": s.S3.AccessKey, "secret-key": s.S3.SecretKey,
	}))
	if _, err := m.Integrate(ctx, S3+":s3-credentials", Manager+":s3-credentials"); err != nil {
		t.Fatalf("%v", err)
	}
	if s.PG != nil {
		s.DeployAgent(Postgres, "postgresql", s.PG.Host, s.PG.Port, s.PG.User, s.PG.Password)
	}
	if s.Maria != nil {
		s.DeployAgent(MariaDB, "mysql", s.Maria.Host, s.Maria.Port, s.Maria.User, s.Maria.Password)
	}
	s.Settle()
	return s
}

// Charm builds the charm in charms/<dir> of this repository, packs it
// into the .charm file Juju deploys (as `make charms` does) and returns it
// unpacked from that file, as Juju unpacks it: every test that deploys
// through Charm deploys the .charm files.
func Charm(t testenv.T, dir string) jujusim.Charm {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(), "charms", dir)
	archive, err := jujusim.PackCharm(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	c, err := jujusim.CharmFromArchive(archive, t.TempDir())
	if err != nil {
		t.Fatalf("%v", err)
	}
	return c
}

// DeployAgent deploys an agent for one database server, its password in a
// Juju secret, and relates it to the manager.
func (s *Stack) DeployAgent(app, engine, host string, port int, user, password string) {
	s.t.Helper()
	s.Must(s.M.Deploy(s.Ctx, app, Charm(s.t, "database-backup-agent"), 1))
	uri, err := s.M.AddSecret(map[string]string{"password": password}, app)
	s.Must(err)
	s.Must(s.M.Config(s.Ctx, app, map[string]string{"engine": engine, "host": host,
		"port": fmt.Sprint(port), "user": user, "password-secret": uri,
		// Every unit of the box is on this one machine: each serves its
		// metrics on a port of its own.
		"metrics-address": testenv.LoopbackAddr(s.t)}))
	id, err := s.M.Integrate(s.Ctx, app+":database-backup", Manager+":database-backup")
	s.Must(err)
	s.Relations[app] = id
}

// Must fails the test on err.
func (s *Stack) Must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%v", err)
	}
}

// Journal is the runner folder of an agent unit (see the agent's main.go).
func (s *Stack) Journal(unit string) runner.Journal {
	return runner.Journal{Dir: filepath.Join(s.M.Dir(), "units", "unit-"+strings.ReplaceAll(unit, "/", "-"), "dbbackup-runner")}
}

// stopRunners removes the agent units, as `juju remove-unit` does: their
// stop hook stops their runner process.
func (s *Stack) stopRunners() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, app := range []string{Postgres, MariaDB} {
		for _, u := range s.M.Units(app) {
			if err := s.M.RemoveUnit(ctx, u); err != nil {
				s.t.Logf("cannot remove %s: %v", u, err)
			}
		}
	}
	if err := s.M.Settle(ctx, 1000); err != nil {
		s.t.Logf("cannot stop the agents' runners: %v", err)
	}
}

// Settle runs the queued hooks.
func (s *Stack) Settle() {
	s.t.Helper()
	if err := s.M.Settle(s.Ctx, 5000); err != nil {
		s.t.Fatalf("%v", err)
	}
}

// Leader returns the manager's leader unit.
func (s *Stack) Leader() string { return s.M.Leader(Manager) }

// Run runs an action on unit and settles what it caused. An error is an
// action juju refuses to start (bad parameters); a failed action is a
// result with Status "failed".
func (s *Stack) Run(unit, action string, params map[string]any) (jujusim.ActionResult, error) {
	res, err := s.M.RunAction(s.Ctx, unit, action, params)
	if err != nil {
		return res, err
	}
	if err := s.M.Settle(s.Ctx, 5000); err != nil {
		return res, err
	}
	return res, nil
}

// Wait settles the model, with update-status now and then, until job id
// is terminal in the manager's history, and returns its show-job results.
func (s *Stack) Wait(id string, timeout time.Duration) (map[string]any, error) {
	deadline := time.Now().Add(timeout)
	for i := 0; ; i++ {
		if err := s.M.Settle(s.Ctx, 5000); err != nil {
			return nil, err
		}
		res, err := s.M.RunAction(s.Ctx, s.Leader(), "show-job", map[string]any{"job-id": id})
		if err != nil {
			return nil, err
		}
		if res.Status != "completed" {
			return nil, fmt.Errorf("show-job %s: %s", id, res.Message)
		}
		switch res.Results["status"] {
		case "success", "error", "lost":
			return res.Results, nil
		}
		if time.Now().After(deadline) {
			return res.Results, fmt.Errorf("job %s not finished after %s: %v", id, timeout, res.Results)
		}
		if i%10 == 9 {
			s.M.UpdateStatus()
		}
		select {
		case <-s.Ctx.Done():
			return nil, s.Ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Secrets returns every credential of the stack, for canary checks.
func (s *Stack) Secrets() []string {
	out := []string{s.S3.AccessKey, s.S3.SecretKey}
	if s.PG != nil {
		out = append(out, s.PG.Password)
	}
	if s.Maria != nil {
		out = append(out, s.Maria.Password)
	}
	return out
}

// Config sets options of app and settles what it caused.
func (s *Stack) Config(app string, values map[string]string) error {
	if err := s.M.Config(s.Ctx, app, values); err != nil {
		return err
	}
	return s.M.Settle(s.Ctx, 5000)
}

// History reads the manager's job history from its peer databag.
func (s *Stack) History() (requirer.History, error) {
	res, err := s.M.Exec(s.Ctx, s.Leader(), "relation-ids manager-peers")
	if err != nil || res.Code != 0 {
		return requirer.History{}, fmt.Errorf("relation-ids: %v %+v", err, res)
	}
	var rel int
	if _, err := fmt.Sscanf(strings.TrimSpace(res.Stdout), "manager-peers:%d", &rel); err != nil {
		return requirer.History{}, fmt.Errorf("relation-ids: %q: %v", res.Stdout, err)
	}
	return requirer.ParseHistory(s.M.RelationData(rel, Manager)[requirer.HistoryKey])
}

// Scheduled returns the ids of the backups the manager's schedule
// requested, oldest first.
func (s *Stack) Scheduled() ([]string, error) {
	h, err := s.History()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range h.Records {
		if r.Source == requirer.FromSchedule {
			ids = append(ids, r.JobID)
		}
	}
	return ids, nil
}
