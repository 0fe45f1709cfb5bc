package metrics

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// cosAgentDoc is the unit data as the cos_agent library's consumer reads
// it: the provider model's fields, with types.
type cosAgentDoc struct {
	MetricsAlertRules RuleFile       `json:"metrics_alert_rules"`
	LogAlertRules     map[string]any `json:"log_alert_rules"`
	Dashboards        []string       `json:"dashboards"`
	MetricsScrapeJobs []struct {
		JobName       string `json:"job_name"`
		MetricsPath   string `json:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"metrics_scrape_jobs"`
	LogSlots []string `json:"log_slots"`
}

func decodeDashboardXZ(t *testing.T, s string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("dashboard is not base64: %v", err)
	}
	r, err := xz.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("dashboard is not xz: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("dashboard does not decompress: %v", err)
	}
	return b
}

func TestCosAgentData(t *testing.T) {
	cases := map[string]string{
		"":               "localhost:9569",
		"127.0.0.1:9100": "localhost:9100",
		":9100":          "localhost:9100",
		"0.0.0.0:9100":   "localhost:9100",
		"[::1]:9100":     "localhost:9100",
		"10.0.0.7:9100":  "10.0.0.7:9100",
	}
	for addr, target := range cases {
		bag, err := CosAgentData(testTopology, addr)
		if err != nil {
			t.Fatalf("CosAgentData(%q): %v", addr, err)
		}
		if len(bag) != 1 || bag[CosAgentKey] == "" {
			t.Fatalf("databag: want the one key %q, got %v", CosAgentKey, bag)
		}
		var doc cosAgentDoc
		dec := json.NewDecoder(strings.NewReader(bag[CosAgentKey]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("config: %v", err)
		}
		if len(doc.MetricsScrapeJobs) != 1 {
			t.Fatalf("scrape jobs: %+v", doc.MetricsScrapeJobs)
		}
		j := doc.MetricsScrapeJobs[0]
		if j.JobName != "backup-manager_0_dbbackup" || j.MetricsPath != Path || len(j.StaticConfigs) != 1 || len(j.StaticConfigs[0].Targets) != 1 || j.StaticConfigs[0].Targets[0] != target {
			t.Errorf("addr %q: scrape job %+v, want target %s", addr, j, target)
		}
		want, _ := Rules(&testTopology)
		gotRules, _ := json.Marshal(doc.MetricsAlertRules)
		wantRules, _ := json.Marshal(want)
		if !bytes.Equal(gotRules, wantRules) {
			t.Errorf("alert rules differ from Rules(topology):\n%s\n%s", gotRules, wantRules)
		}
		if len(doc.LogAlertRules) != 0 || doc.LogSlots == nil || len(doc.LogSlots) != 0 {
			t.Errorf("logs: want empty rules and slots, got %v %v", doc.LogAlertRules, doc.LogSlots)
		}
		if len(doc.Dashboards) != 1 || !bytes.Equal(decodeDashboardXZ(t, doc.Dashboards[0]), Dashboard()) {
			t.Errorf("dashboards: want the one dashboard, xz and base64")
		}
	}
}

func TestCosAgentDataRefuses(t *testing.T) {
	if _, err := CosAgentData(testTopology, "example.com:1"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad address: got %v", err)
	}
	bad := []Topology{
		{Model: "", ModelUUID: testTopology.ModelUUID, Application: "a"},
		{Model: "Prod", ModelUUID: testTopology.ModelUUID, Application: "a"},
		{Model: "m", ModelUUID: "0123ABCD-4567-89ab-cdef-0123456789ab", Application: "a"},
		{Model: "m", ModelUUID: testTopology.ModelUUID + "0", Application: "a"},
		{Model: "m", ModelUUID: testTopology.ModelUUID, Application: "a/0"},
		{Model: "m", ModelUUID: testTopology.ModelUUID, Application: `a",x="`},
		{Model: "m", ModelUUID: testTopology.ModelUUID, Application: "a", CharmName: "Charm"},
	}
	for _, top := range bad {
		if _, err := CosAgentData(top, ""); !errors.Is(err, ErrInvalidTopology) {
			t.Errorf("topology %+v: got %v, want ErrInvalidTopology", top, err)
		}
	}
}

// TestDashboardEncodingReadByPython: the COS charm libraries decode a
// dashboard with Python's lzma.decompress(base64.b64decode(...)); the
// same bytes must come back.
func TestDashboardEncodingReadByPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		testenv.Unavailable(t, "python3 is not installed")
	}
	enc, err := EncodeDashboard(Dashboard())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", "import base64, lzma, sys; sys.stdout.buffer.write(lzma.decompress(base64.b64decode(sys.stdin.read())))")
	cmd.Stdin = strings.NewReader(enc)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 cannot decode the dashboard: %v", err)
	}
	if !bytes.Equal(out, Dashboard()) {
		t.Fatalf("python3 decoded %d bytes, not the dashboard's %d", len(out), len(Dashboard()))
	}
}

// fakeRelations is a unit's databags on its cos-agent relations.
type fakeRelations struct {
	data   map[string]map[string]string
	writes int
}

func (f *fakeRelations) IDs() ([]string, error) {
	var ids []string
	for id := range f.data {
		ids = append(ids, id)
	}
	return ids, nil
}

func (f *fakeRelations) Get(id string) (map[string]string, error) { return f.data[id], nil }

func (f *fakeRelations) Set(id string, d map[string]string) error {
	f.writes++
	for k, v := range d {
		if v == "" {
			delete(f.data[id], k)
		} else {
			f.data[id][k] = v
		}
	}
	return nil
}

// SyncCosAgent writes the data once, not again when nothing changed,
// anew when the address changes, and removes it when the unit stops
// serving.
func TestSyncCosAgent(t *testing.T) {
	top := Topology{Model: "prod", ModelUUID: "00112233-4455-6677-8899-aabbccddeeff", Application: "manager", CharmName: "database-backup-manager"}
	rel := &fakeRelations{data: map[string]map[string]string{"cos-agent:3": {}, "cos-agent:4": {}}}
	if err := SyncCosAgent(rel, top, "127.0.0.1:9570", true); err != nil {
		t.Fatal(err)
	}
	want, _ := CosAgentData(top, "127.0.0.1:9570")
	for id, d := range rel.data {
		if d[CosAgentKey] != want[CosAgentKey] {
			t.Errorf("%s: %q", id, d[CosAgentKey])
		}
	}
	if err := SyncCosAgent(rel, top, "127.0.0.1:9570", true); err != nil || rel.writes != 2 {
		t.Errorf("unchanged data written again: %d writes, %v", rel.writes, err)
	}
	if err := SyncCosAgent(rel, top, "127.0.0.1:9571", true); err != nil || rel.writes != 4 ||
		!strings.Contains(rel.data["cos-agent:3"][CosAgentKey], "localhost:9571") {
		t.Errorf("a new address: %d writes, %v", rel.writes, err)
	}
	if err := SyncCosAgent(rel, top, "127.0.0.1:9571", false); err != nil || len(rel.data["cos-agent:4"]) != 0 {
		t.Errorf("a unit that stopped serving keeps %v, %v", rel.data["cos-agent:4"], err)
	}
	if err := SyncCosAgent(rel, Topology{Model: "Bad Model"}, "127.0.0.1:9571", true); err == nil {
		t.Error("an invalid topology published")
	}
}
