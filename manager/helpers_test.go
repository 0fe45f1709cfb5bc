package manager

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
)

// TestMain removes the hook tool and the charms built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// sim is a model with the manager, a real S3 server and helpers.
type sim struct {
	t      testing.TB
	m      *jujusim.Model
	ctx    context.Context
	s3     *testenv.S3Server
	bucket string
	rels   map[string]int // "pg", "s3", ... -> relation id
}

// newSim deploys the manager with units units and starts versitygw with
// a bucket; nothing else is related.
func newSim(t *testing.T, units int) *sim {
	t.Helper()
	return newSimTB(t, units)
}

// newSimTB is newSim for tests and benchmarks.
func newSimTB(t testing.TB, units int) *sim {
	t.Helper()
	return newSimOpts(t, units, jujusim.Options{})
}

// newSimOpts is newSim with model options (a manual clock).
func newSimOpts(t testing.TB, units int, opts jujusim.Options) *sim {
	t.Helper()
	s3 := testenv.StartVersityGW(t)
	s3.CreateBucket(t, "backups")
	m, err := jujusim.NewModel(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline:\n%s\nstatus:\n%s", m.TimelineString(), m.Status())
		}
		m.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s := &sim{t: t, m: m, ctx: ctx, s3: s3, bucket: "backups", rels: map[string]int{}}
	if err := m.Deploy(ctx, "manager", model.Charm(t, "database-backup-manager"), units); err != nil {
		t.Fatal(err)
	}
	if err := m.Config(ctx, "manager", map[string]string{"metrics-address": testenv.LoopbackAddr(t)}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	return s
}

// settle runs the queued hooks.
func (s *sim) settle() {
	s.t.Helper()
	if err := s.m.Settle(s.ctx, 1000); err != nil {
		s.t.Fatal(err)
	}
}

// addS3 deploys the s3 stand-in in mode (v0 or v1) with the server's
// credentials (secretKey overrides the secret key when set) and relates it.
func (s *sim) addS3(mode, secretKey string) {
	s.t.Helper()
	if secretKey == "" {
		secretKey = s.s3.SecretKey
	}
	if err := s.m.Deploy(s.ctx, "s3", model.Charm(s.t, "database-backup-manager/testdata/s3stub"), 1); err != nil {
		s.t.Fatal(err)
	}
	s.config("s3", map[string]string{
		"mode": mode, "bucket": s.bucket, "endpoint": s.s3.Endpoint, "region": s.s3.Region,
		"access-key": s.s3.AccessKey, "secret-key": secretKey,
	})
	s.relate("s3", "s3:s3-credentials", "manager:s3-credentials")
}

// addDB deploys a fake provider of engine (postgresql or mysql) as app.
func (s *sim) addDB(app, engine string) {
	s.t.Helper()
	if err := s.m.Deploy(s.ctx, app, model.Charm(s.t, "database-backup-manager/testdata/fakeprovider"), 1); err != nil {
		s.t.Fatal(err)
	}
	s.config(app, map[string]string{"engine": engine})
	s.relate(app, app+":database-backup", "manager:database-backup")
}

func (s *sim) relate(name, a, b string) {
	s.t.Helper()
	id, err := s.m.Integrate(s.ctx, a, b)
	if err != nil {
		s.t.Fatal(err)
	}
	s.rels[name] = id
	s.settle()
}

func (s *sim) config(app string, values map[string]string) {
	s.t.Helper()
	if err := s.m.Config(s.ctx, app, values); err != nil {
		s.t.Fatal(err)
	}
	s.settle()
}

// run runs an action and settles the hooks it caused.
func (s *sim) run(unit, action string, params map[string]any) jujusim.ActionResult {
	s.t.Helper()
	res, err := s.m.RunAction(s.ctx, unit, action, params)
	if err != nil {
		s.t.Fatalf("%s %s: %v", unit, action, err)
	}
	s.settle()
	return res
}

// ok runs an action that must complete and returns its results.
func (s *sim) ok(unit, action string, params map[string]any) map[string]any {
	s.t.Helper()
	res := s.run(unit, action, params)
	if res.Status != "completed" {
		s.t.Fatalf("%s %v: %s %q\n%s", action, params, res.Status, res.Message, res.Output)
	}
	return res.Results
}

// refused runs an action that must fail with a message holding want.
func (s *sim) refused(unit, action string, params map[string]any, want string) {
	s.t.Helper()
	res := s.run(unit, action, params)
	if res.Status != "failed" || !strings.Contains(res.Message, want) {
		s.t.Errorf("%s %v: got %s %q, want failed with %q", action, params, res.Status, res.Message, want)
	}
}

// status returns a unit's workload status as "status: message".
func (s *sim) status(unit string) string {
	st, msg := s.m.UnitStatus(unit)
	return st + ": " + msg
}

// jobsRequested returns the jobs field the manager writes for app.
func (s *sim) jobsRequested(app string) string {
	return s.m.RelationData(s.rels[app], "manager")["jobs"]
}

// peerData returns the manager's peer application databag.
func (s *sim) peerData() map[string]string {
	s.t.Helper()
	res, err := s.m.Exec(s.ctx, s.m.Leader("manager"), "relation-ids "+peerEndpoint)
	if err != nil || res.Code != 0 {
		s.t.Fatalf("relation-ids: %v %+v", err, res)
	}
	var id int
	if _, err := fmt.Sscanf(strings.TrimSpace(res.Stdout), peerEndpoint+":%d", &id); err != nil {
		s.t.Fatalf("peer relation id %q: %v", res.Stdout, err)
	}
	return s.m.RelationData(id, "manager")
}

// noCanary fails when a credential of the S3 server appears in anything
// the manager shows or keeps: every databag it writes (the jobs it requests
// included: the keys travel as a Juju secret), every data change in the
// timeline, its status, its logs, its action results and hook output.
func (s *sim) noCanary() {
	s.t.Helper()
	var seen []string
	seen = append(seen, s.m.Status())
	for _, v := range s.peerData() {
		seen = append(seen, v)
	}
	for _, id := range s.rels {
		for _, v := range s.m.RelationData(id, "manager") {
			seen = append(seen, v)
		}
	}
	for _, u := range s.m.Units("manager") {
		for name, id := range s.rels {
			if name == "s3" {
				continue
			}
			for _, v := range s.m.RelationData(id, u) {
				seen = append(seen, v)
			}
		}
	}
	for _, e := range s.m.Timeline() {
		if strings.HasPrefix(e.Unit, "manager/") {
			seen = append(seen, e.Text)
		}
	}
	for _, text := range seen {
		for _, canary := range []string{s.s3.AccessKey, s.s3.SecretKey} {
			if strings.Contains(text, canary) {
				s.t.Errorf("a credential appears in what the manager shows: %.200q", text)
			}
		}
	}
}
