package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
	"github.com/dbbackup/dbbackup/runner"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// world is a model with the agent (app "agent"), the test requirer (app
// "manager"), a database and an S3 server.
type world struct {
	t   *testing.T
	m   *jujusim.Model
	ctx context.Context
	rel int
	// dbRel is the postgresql or mysql relation (related worlds).
	dbRel  int
	s3     *testenv.S3Server
	bucket string
	// secrets are values that must never leave the runner.
	secrets []string
	jobs    []dbbackup.Job
}

// dbServer is what a test needs of a real database server.
type dbServer struct {
	engine             string
	host               string
	port               int
	user, password, db string
}

func newWorld(t *testing.T, db dbServer, units int) *world {
	t.Helper()
	return newWorldWith(t, db, worldOptions{units: units})
}

// worldOptions vary the model newWorldWith makes.
type worldOptions struct {
	units int
	// related deploys the test database charm (app "db") in front of the
	// server and relates the agent to it instead of configuring it.
	related bool
	// noSecrets makes the database charm answer credentials in its databag.
	noSecrets bool
	// subordinate deploys the agent's subordinate variant beside the
	// database charm's unit over juju-info (related must be true).
	subordinate bool
}

func newWorldWith(t *testing.T, db dbServer, opts worldOptions) *world {
	t.Helper()
	units := opts.units
	s3 := testenv.StartVersityGW(t)
	w := &world{t: t, s3: s3, bucket: "backups", secrets: []string{s3.SecretKey, s3.AccessKey, db.password}}
	s3.CreateBucket(t, w.bucket)
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	w.ctx = ctx
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("timeline:\n%s\nstatus:\n%s", m.TimelineString("hook", "data", "exec", "log"), m.Status())
			for _, u := range m.Units("agent") {
				log, _ := os.ReadFile(filepath.Join(w.journal(u).Dir, "runner.log"))
				t.Logf("%s runner.log:\n%s", u, log)
			}
		}
		w.stopRunners()
		m.Close()
	})
	agent := "database-backup-agent"
	if opts.subordinate {
		agent, units = "database-backup-agent/subordinate", 0
	}
	if err := m.Deploy(ctx, "agent", model.Charm(t, agent), units); err != nil {
		t.Fatal(err)
	}
	if err := m.Deploy(ctx, "manager", model.Charm(t, "database-backup-agent/testdata/requirer"), 1); err != nil {
		t.Fatal(err)
	}
	if opts.related {
		if err := m.Deploy(ctx, "db", model.Charm(t, "database-backup-agent/testdata/dbcharm"), 1); err != nil {
			t.Fatal(err)
		}
		if err := m.Config(ctx, "db", map[string]string{"engine": db.engine, "host": db.host, "port": fmt.Sprint(db.port),
			"admin-user": db.user, "admin-password": db.password, "use-secrets": fmt.Sprint(!opts.noSecrets)}); err != nil {
			t.Fatal(err)
		}
		if err := m.Config(ctx, "agent", map[string]string{"databases": db.db}); err != nil {
			t.Fatal(err)
		}
		if opts.subordinate {
			if _, err := m.Integrate(ctx, "agent:juju-info", "db:juju-info"); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if w.dbRel, err = m.Integrate(ctx, "agent:"+db.engine, "db:"+db.engine); err != nil {
			t.Fatal(err)
		}
	} else {
		uri, err := m.AddSecret(map[string]string{"password": db.password}, "agent")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Config(ctx, "agent", map[string]string{"engine": db.engine, "host": db.host,
			"port": fmt.Sprint(db.port), "user": db.user, "databases": db.db, "password-secret": uri}); err != nil {
			t.Fatal(err)
		}
	}
	var err2 error
	if w.rel, err2 = m.Integrate(ctx, "agent:database-backup", "manager:database-backup"); err2 != nil {
		t.Fatal(err2)
	}
	w.settle()
	return w
}

// journal is the runner folder of an agent unit.
func (w *world) journal(unit string) runner.Journal {
	return runner.Journal{Dir: filepath.Join(w.m.Dir(), "units", "unit-"+strings.ReplaceAll(unit, "/", "-"), "dbbackup-runner")}
}

func (w *world) stopRunners() {
	for _, u := range w.m.Units("agent") {
		if err := backupagent.StopRunner(w.journal(u)); err != nil {
			w.t.Errorf("%s: %v", u, err)
		}
	}
}

func (w *world) settle() {
	w.t.Helper()
	if err := w.m.Settle(w.ctx, 2000); err != nil {
		w.t.Fatal(err)
	}
}

// storage is the storage config of the test bucket.
func (w *world) storage() dbbackup.StorageConfig { return w.s3.StorageConfig(w.bucket) }

func (w *world) backup(id string) dbbackup.Job {
	return dbbackup.Job{ID: id, Type: dbbackup.Backup, Config: &dbbackup.JobConfig{Compression: true},
		StorageInterface: dbbackup.StorageS3, Storage: w.storage()}
}

func (w *world) restore(id, path string) dbbackup.Job {
	j := w.backup(id)
	j.Type, j.ArtefactPath = dbbackup.Restore, path
	return j
}

// request appends jobs to the requirer's list.
func (w *world) request(jobs ...dbbackup.Job) {
	w.t.Helper()
	w.jobs = append(w.jobs, jobs...)
	text, err := dbbackup.MarshalJobs(w.jobs, dbbackup.Requirer)
	if err != nil {
		w.t.Fatal(err)
	}
	w.requestRaw(text)
}

// requestRaw sets the requirer's jobs text as it is.
func (w *world) requestRaw(text string) {
	w.t.Helper()
	if err := w.m.Config(w.ctx, "manager", map[string]string{"jobs": text}); err != nil {
		w.t.Fatal(err)
	}
}

// reports returns every agent unit's reports by job-id, and which unit
// reported each.
func (w *world) reports() (map[string]dbbackup.Job, map[string][]string) {
	w.t.Helper()
	jobs, by := map[string]dbbackup.Job{}, map[string][]string{}
	for _, u := range w.m.Units("agent") {
		l := dbbackup.ParseJobs(w.m.RelationData(w.rel, u)["jobs"], dbbackup.Provider)
		if ps := l.AllProblems(); len(ps) > 0 {
			w.t.Errorf("%s reports are not valid for the provider schema: %v", u, ps)
		}
		for _, e := range l.Entries {
			jobs[e.Job.ID] = e.Job
			by[e.Job.ID] = append(by[e.Job.ID], u)
		}
	}
	return jobs, by
}

// wait settles the model until every id is reported terminal.
func (w *world) wait(ids ...string) map[string]dbbackup.Job {
	w.t.Helper()
	for {
		w.settle()
		got, _ := w.reports()
		done := true
		for _, id := range ids {
			done = done && got[id].Status.Terminal()
		}
		if done {
			return got
		}
		select {
		case <-w.ctx.Done():
			w.t.Fatalf("jobs %v not finished: %+v", ids, got)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitFor settles the model until ok holds.
func (w *world) waitFor(what string, ok func() bool) {
	w.t.Helper()
	for !ok() {
		w.settle()
		select {
		case <-w.ctx.Done():
			w.t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkNoSecrets fails if a secret appears in what the agent wrote: its
// databags (every data change, peer relation included), statuses, juju-log
// lines and hook output in the timeline, the model status, or its runner
// logs. (The requirer's own databag and config hold the credentials by
// design.)
func (w *world) checkNoSecrets() {
	w.t.Helper()
	texts := []string{w.m.Status()}
	for _, e := range w.m.Timeline() {
		if strings.HasPrefix(e.Unit, "agent/") {
			texts = append(texts, e.Text)
		}
	}
	for _, u := range w.m.Units("agent") {
		texts = append(texts, fmt.Sprint(w.m.RelationData(w.rel, u)))
		log, _ := os.ReadFile(filepath.Join(w.journal(u).Dir, "runner.log"))
		texts = append(texts, string(log))
	}
	for _, s := range w.secrets {
		for _, text := range texts {
			if s != "" && strings.Contains(text, s) {
				w.t.Errorf("a credential leaked: %.200s", text[max(0, strings.Index(text, s)-100):])
			}
		}
	}
}
