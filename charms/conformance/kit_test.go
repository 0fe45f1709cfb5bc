package conformance

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/internal/testenv/model"
	"github.com/dbbackup/dbbackup/jujusim"
)

var (
	providerFlag       = flag.String("provider", "", "a provider charm to check: a folder (with charmcraft.yaml) or a .charm file; empty: dbbackup's agent and testdata/seedprovider")
	providerConfigFlag = flag.String("provider-config", "", "config of the provider application, key=value pairs separated by commas")
	providerUnitsFlag  = flag.Int("provider-units", 2, "units of the provider application")
	requirerFlag       = flag.String("requirer", "", "a requirer charm to check: a folder or a .charm file; empty: dbbackup's manager and testdata/seedrequirer")
	requirerS3Flag     = flag.String("requirer-s3", "relation", "how the requirer gets the bucket: relation (an s3-integrator stand-in on its s3-credentials endpoint) or config (options bucket, endpoint, region, access-key, secret-key)")
	backupActionFlag   = flag.String("requirer-backup", "create-backup", "the requirer's action that requests a backup (returns job-id)")
	restoreActionFlag  = flag.String("requirer-restore", "restore", "the requirer's action that requests a restore, given backup-id (returns job-id)")
	clearActionFlag    = flag.String("requirer-clear", "clear-history", "the requirer's action that clears the completed jobs")
	listActionFlag     = flag.String("requirer-list", "list-jobs", "the requirer's action that shows its job history (every job-id it keeps)")
	waitFlag           = flag.Duration("wait", 2*time.Minute, "how long a job may take")
)

// TestMain removes the hook tool and the charms built for the run.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	jujusim.RemoveBuiltTool()
	os.Exit(code)
}

// endpoint is the relation endpoint every database_backup charm has.
const endpoint = "database-backup"

// kit is one model with a real S3 server and a bucket.
type kit struct {
	t      *testing.T
	m      *jujusim.Model
	ctx    context.Context
	s3     *testenv.S3Server
	bucket string
	rel    int // the database_backup relation
}

func newKit(t *testing.T) *kit {
	t.Helper()
	s3 := testenv.StartVersityGW(t)
	s3.CreateBucket(t, "backups")
	m, err := jujusim.NewModel(jujusim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *waitFlag+3*time.Minute)
	k := &kit{t: t, m: m, ctx: ctx, s3: s3, bucket: "backups"}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("timeline:\n%s\nstatus:\n%s", m.TimelineString("hook", "data", "exec", "log"), m.Status())
		}
		// Removing the units runs their stop and remove hooks: a charm
		// that started processes ends them there, as under Juju.
		for _, app := range []string{"provider", "requirer", "s3"} {
			for _, u := range m.Units(app) {
				_ = m.RemoveUnit(context.Background(), u)
			}
		}
		stop, done := context.WithTimeout(context.Background(), time.Minute)
		_ = m.Settle(stop, 1000)
		done()
		cancel()
		m.Close()
	})
	return k
}

// charm loads a charm from a folder (built and packed) or a .charm file;
// a relative folder without a charmcraft.yaml is looked up under charms/.
func (k *kit) charm(path string) jujusim.Charm {
	k.t.Helper()
	if strings.HasSuffix(path, ".charm") {
		c, err := jujusim.CharmFromArchive(path, k.t.TempDir())
		if err != nil {
			k.t.Fatal(err)
		}
		return c
	}
	if _, err := os.Stat(filepath.Join(path, "charmcraft.yaml")); err != nil && !filepath.IsAbs(path) {
		return model.Charm(k.t, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		k.t.Fatal(err)
	}
	archive, err := jujusim.PackCharm(abs)
	if err != nil {
		k.t.Fatal(err)
	}
	c, err := jujusim.CharmFromArchive(archive, k.t.TempDir())
	if err != nil {
		k.t.Fatal(err)
	}
	return c
}

func (k *kit) deploy(app string, c jujusim.Charm, units int) {
	k.t.Helper()
	if err := k.m.Deploy(k.ctx, app, c, units); err != nil {
		k.t.Fatal(err)
	}
}

func (k *kit) config(app string, values map[string]string) {
	k.t.Helper()
	if len(values) == 0 {
		return
	}
	if err := k.m.Config(k.ctx, app, values); err != nil {
		k.t.Fatal(err)
	}
}

func (k *kit) relate() {
	k.t.Helper()
	id, err := k.m.Integrate(k.ctx, "provider:"+endpoint, "requirer:"+endpoint)
	if err != nil {
		k.t.Fatal(err)
	}
	k.rel = id
	k.settle()
}

func (k *kit) settle() {
	k.t.Helper()
	if err := k.m.Settle(k.ctx, 5000); err != nil {
		k.t.Fatal(err)
	}
}

// action runs an action on the requirer's leader; it must complete.
func (k *kit) action(name string, params map[string]any) map[string]any {
	k.t.Helper()
	res, err := k.m.RunAction(k.ctx, k.m.Leader("requirer"), name, params)
	if err != nil {
		k.t.Fatalf("%s %v: %v", name, params, err)
	}
	if res.Status != "completed" {
		k.t.Fatalf("%s %v: %s %q", name, params, res.Status, res.Message)
	}
	k.settle()
	return res.Results
}

// report is one job as a provider unit reports it, with the unit.
type report struct {
	unit string
	job  map[string]any
}

func (r report) str(key string) string { s, _ := r.job[key].(string); return s }

// reports returns every provider unit's reports by job-id; a job two units
// report has two entries.
func (k *kit) reports() map[string][]report {
	out := map[string][]report{}
	for _, u := range k.m.Units("provider") {
		text := k.m.RelationData(k.rel, u)["jobs"]
		if strings.TrimSpace(text) == "" {
			continue
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(text), &list); err != nil {
			k.t.Errorf("%s's jobs are not a JSON array of objects: %v", u, err)
			continue
		}
		for _, j := range list {
			id, _ := j["job-id"].(string)
			out[id] = append(out[id], report{unit: u, job: j})
		}
	}
	return out
}

// requested returns the jobs in the requirer's application databag.
func (k *kit) requested() []map[string]any {
	text := k.m.RelationData(k.rel, "requirer")["jobs"]
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		k.t.Fatalf("the requirer's jobs are not a JSON array of objects: %v", err)
	}
	return list
}

// wait settles the model (update-status included, for providers that
// report from outside hooks) until every job in ids was reported success
// or error, and returns every unit's latest report of every job
// (observed).
func (k *kit) wait(ids ...string) map[string][]report {
	k.t.Helper()
	return k.waitObserving(nil, ids...)
}

// waitObserving is wait, calling observe with the reports at every step.
func (k *kit) waitObserving(observe func(map[string][]report), ids ...string) map[string][]report {
	k.t.Helper()
	deadline := time.Now().Add(*waitFlag)
	for {
		k.settle()
		got := k.observed()
		if observe != nil {
			observe(got)
		}
		done := true
		for _, id := range ids {
			st := ""
			if len(got[id]) > 0 {
				st = got[id][0].str("status")
			}
			done = done && (st == "success" || st == "error")
		}
		if done {
			return got
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("jobs %v not finished within %s: %s", ids, *waitFlag, describe(got))
		}
		k.m.UpdateStatus()
		time.Sleep(100 * time.Millisecond)
	}
}

// describe lists reports for a failure message, without storage-config.
func describe(got map[string][]report) string {
	var lines []string
	for id, rs := range got {
		for _, r := range rs {
			lines = append(lines, fmt.Sprintf("%s on %s: %s %q", id, r.unit, r.str("status"), r.str("message")))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// configPairs parses key=value,key=value.
func configPairs(t *testing.T, s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("-provider-config: %q is not key=value", kv)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}
