package runner_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/runner"
)

// fullJob sets every typed field of a requested job.
func fullJob() dbbackup.Job {
	j := job("r9", dbbackup.Restore)
	j.Config = &dbbackup.JobConfig{Compression: false}
	j.Storage = dbbackup.StorageConfig{Bucket: "bk", Credentials: dbbackup.Credentials{AccessKey: "AK", SecretKey: canary}, Path: "p/q", Endpoint: "https://s3.example:9000",
		Region: "eu-1", URIStyle: "path", StorageClass: "STANDARD_IA", TLSCAChain: []string{"Q0E="}, APIVersion: 4,
		Attributes: []string{"X-Amz-Meta-A=b"}, Extra: map[string]json.RawMessage{"vendor-key": json.RawMessage(`{"x":1}`)}}
	j.Extra = map[string]json.RawMessage{"priority": json.RawMessage(`"high"`)}
	return j
}

// TestJournalStoresTypedJob: a record holds the job as typed JSON fields,
// not as wire text inside a string, and gives back the job submitted,
// credentials included.
func TestJournalStoresTypedJob(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	want := fullJob()
	if _, err := j.Submit(want, time.Now()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "jobs", "r9.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Request json.RawMessage `json:"request"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var typed struct {
		ID      string `json:"job-id"`
		Storage struct {
			SecretKey string `json:"secret-key"`
			Bucket    string `json:"bucket"`
		} `json:"storage-config"`
	}
	if err := json.Unmarshal(raw.Request, &typed); err != nil {
		t.Fatalf("request is not a JSON object of typed fields: %s (%v)", raw.Request, err)
	}
	if typed.ID != "r9" || typed.Storage.Bucket != "bk" || typed.Storage.SecretKey != canary {
		t.Errorf("request = %s", raw.Request)
	}
	r, err := j.Get("r9")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Job()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Job() =\n%#v\nwant\n%#v", got, want)
	}
	if got.Storage.SecretKey != canary {
		t.Error("the runner needs the credentials")
	}
}

// oldRecord is a record as the previous version of the journal wrote it:
// the job as requirer wire text inside a string.
func oldRecord(t *testing.T, dir, id, request string) {
	t.Helper()
	rec := map[string]any{"job-id": id, "job-type": "backup", "state": "pending", "submitted": time.Now().UTC(), "request": request}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs", id+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestJournalReadsPreviousForm: after an upgrade, a journal written by the
// previous version still loads and its jobs run with their credentials; a
// damaged old record fails its own job only; a rewritten record has the
// new form.
func TestJournalReadsPreviousForm(t *testing.T) {
	dir := t.TempDir()
	text, err := dbbackup.MarshalJobs([]dbbackup.Job{job("b1", dbbackup.Backup)}, dbbackup.Requirer)
	if err != nil {
		t.Fatal(err)
	}
	oldRecord(t, dir, "b1", text)
	oldRecord(t, dir, "b2", `[{"job-id":"b2"}]`)
	j := runner.Journal{Dir: dir}
	recs, err := j.Load()
	if err != nil || len(recs) != 2 {
		t.Fatalf("Load = %v, %v", recs, err)
	}
	got, err := recs[0].Job()
	if err != nil || got.ID != "b1" || got.Storage.SecretKey != canary || got.Config == nil || !got.Config.Compression {
		t.Errorf("old record b1: Job() = %+v, %v", got, err)
	}
	if _, err := recs[1].Job(); err == nil {
		t.Error("old record b2 without a valid job: Job() succeeded")
	}

	h := start(t, dir)
	h.waitStarted("b1")
	h.f.gate("b1") <- nil
	h.waitState("b1", dbbackup.Success)
	bad := h.waitState("b2", dbbackup.Error)
	if !strings.Contains(bad.Message, "cannot read job") {
		t.Errorf("b2 message = %q", bad.Message)
	}
	h.stop()
	data, err := os.ReadFile(filepath.Join(dir, "jobs", "b1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"request":{"job-id":"b1"`) {
		t.Errorf("a rewritten old record keeps the old form: %s", data)
	}
	data, err = os.ReadFile(filepath.Join(dir, "jobs", "b2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"request":"[{\"job-id\":\"b2\"}]"`) {
		t.Errorf("a damaged old record lost its text: %s", data)
	}
}

// TestRefuse: a job refused before it ran is an error with its
// credentials masked, and never replaces a job the journal holds.
func TestRefuse(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := j.Submit(job("b1", dbbackup.Backup), now); err != nil {
		t.Fatal(err)
	}
	if isNew, err := j.Refuse(job("b1", dbbackup.Backup), "no", now); err != nil || isNew {
		t.Errorf("Refuse of a held job = %t, %v", isNew, err)
	}
	if r, _ := j.Get("b1"); r.Status != dbbackup.Pending {
		t.Errorf("a held job was overwritten: %+v", r)
	}
	if isNew, err := j.Refuse(job("b2", dbbackup.Backup), "storage-config: no keys", now); err != nil || !isNew {
		t.Fatalf("Refuse = %t, %v", isNew, err)
	}
	r, err := j.Get("b2")
	if err != nil || r.Status != dbbackup.Error || r.Message != "storage-config: no keys" || !r.Finished.Equal(now) {
		t.Errorf("refused record = %+v, %v", r, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "jobs", "b2.json"))
	if strings.Contains(string(data), canary) {
		t.Errorf("a refused job keeps its credentials: %s", data)
	}
	if isNew, err := j.Submit(job("b2", dbbackup.Backup), now); err != nil || isNew {
		t.Errorf("Submit after Refuse = %t, %v", isNew, err)
	}
	if _, err := j.Refuse(dbbackup.Job{ID: "../x"}, "no", now); err == nil {
		t.Error("Refuse of an invalid job-id succeeded")
	}
}

// TestValue: the agent's values in the journal folder round-trip, are
// 0600, report a change, and never take a name outside the folder or one
// of the journal's own files.
func TestValue(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: filepath.Join(dir, "j")}
	type v struct{ A, B string }
	var got v
	if err := j.Value("thing.json", &got); !errors.Is(err, runner.ErrNoValue) {
		t.Errorf("Value before SetValue = %v, want ErrNoValue", err)
	}
	for i, want := range []bool{true, false} {
		changed, err := j.SetValue("thing.json", v{"a", canary})
		if err != nil || changed != want {
			t.Errorf("SetValue #%d = %t, %v; want %t", i, changed, err, want)
		}
	}
	if changed, err := j.SetValue("thing.json", v{"a", "b"}); err != nil || !changed {
		t.Errorf("SetValue of a new value = %t, %v", changed, err)
	}
	if err := j.Value("thing.json", &got); err != nil || got != (v{"a", "b"}) {
		t.Errorf("Value = %+v, %v", got, err)
	}
	info, err := os.Stat(filepath.Join(dir, "j", "thing.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", info, err)
	}
	for _, name := range []string{"../x.json", "health.json", "jobs", "lock", "pid", "A.json", "", "x/y.json"} {
		if _, err := j.SetValue(name, 1); err == nil {
			t.Errorf("SetValue(%q) succeeded", name)
		}
		if err := j.Value(name, &got); err == nil || errors.Is(err, runner.ErrNoValue) {
			t.Errorf("Value(%q) = %v, want a refusal", name, err)
		}
	}
}
