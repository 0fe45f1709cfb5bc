package dbbackup

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestShapesAreNormalised(t *testing.T) {
	chain := []string{"Q0VSVDE=", "Q0VSVDI="}
	cases := []struct {
		name, fields string
		wantChain    []string
		wantAttrs    []string
		wantAPI      int
	}{
		{"schema arrays and integer", `"tls-ca-chain":["Q0VSVDE=","Q0VSVDI="],"attributes":["a=1","b=2"],"s3-api-version":4`, chain, []string{"a=1", "b=2"}, 4},
		{"data-platform-libs JSON strings", `"tls-ca-chain":"[\"Q0VSVDE=\", \"Q0VSVDI=\"]","attributes":"[\"a=1\",\"b=2\"]","s3-api-version":"4"`, chain, []string{"a=1", "b=2"}, 4},
		{"s3 README plain strings", `"tls-ca-chain":"Q0VSVDE=","attributes":"a=1; b=2;","s3-api-version":"2"`, []string{"Q0VSVDE="}, []string{"a=1", "b=2"}, 2},
		{"empty strings mean unset", `"tls-ca-chain":"","attributes":" "`, nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := ParseJobs("["+s3(c.fields)+"]", Requirer)
			if ps := l.AllProblems(); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			got := l.Jobs()[0].Storage
			if !reflect.DeepEqual(got.TLSCAChain, c.wantChain) || !reflect.DeepEqual(got.Attributes, c.wantAttrs) || got.APIVersion != c.wantAPI {
				t.Fatalf("got chain %q attrs %q api %d; want %q %q %d", got.TLSCAChain, got.Attributes, got.APIVersion, c.wantChain, c.wantAttrs, c.wantAPI)
			}
			// Written back, the normalised shape is the schema's.
			text, err := MarshalJobs(l.Jobs(), Requirer)
			if err != nil {
				t.Fatal(err)
			}
			var decoded []map[string]any
			if err := json.Unmarshal([]byte(text), &decoded); err != nil {
				t.Fatal(err)
			}
			sc := decoded[0]["storage-config"].(map[string]any)
			if c.wantAPI != 0 {
				if v, ok := sc["s3-api-version"].(float64); !ok || int(v) != c.wantAPI {
					t.Errorf("written s3-api-version = %#v, want the integer %d", sc["s3-api-version"], c.wantAPI)
				}
			}
			if c.wantChain != nil {
				if _, ok := sc["tls-ca-chain"].([]any); !ok {
					t.Errorf("written tls-ca-chain = %#v, want an array", sc["tls-ca-chain"])
				}
			}
		})
	}
}

func TestUnknownFieldsSurviveReadModifyWrite(t *testing.T) {
	in := `[{"job-id":"job-1","x-vendor":{"b":[1, 2],"a":"z"},"job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"b","access-key":"k","secret-key":"s","delete-older-than-days":"7"},"status":"queued-by-other-impl"}]`
	l := ParseJobs(in, Requirer)
	if ps := l.AllProblems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	jobs := l.Jobs()
	jobs[0].Config.Compression = false // modify
	out, err := MarshalJobs(jobs, Requirer)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"x-vendor":{"b":[1,2],"a":"z"}`, `"delete-older-than-days":"7"`, `"status":"queued-by-other-impl"`, `"job-config":{"compression":false}`} {
		if !strings.Contains(out, want) {
			t.Errorf("written jobs lack %s:\n%s", want, out)
		}
	}
}

func TestDatabagRootKeysAreKept(t *testing.T) {
	bag := Databag{"jobs": `[` + goodJob + `]`, "other-impl": "v"}
	jobs := bag.Jobs(Requirer).Jobs()
	if _, err := bag.SetJobs(append(jobs, Job{ID: "job-2", Type: Backup, Config: &JobConfig{}, Storage: jobs[0].Storage}), Requirer); err != nil {
		t.Fatal(err)
	}
	if bag["other-impl"] != "v" {
		t.Fatalf("root key lost: %v", bag)
	}
	if n := len(bag.Jobs(Requirer).Jobs()); n != 2 {
		t.Fatalf("got %d jobs, want 2", n)
	}
}

func TestWritingIsDeterministicAndIdempotent(t *testing.T) {
	for _, file := range []string{"published-requirer.json", "seed-requirer-fixed.json"} {
		l := ParseJobs(readTestdata(t, file), Requirer)
		first, err := MarshalJobs(l.Jobs(), Requirer)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ { // map order differs between runs; bytes must not
			again, err := MarshalJobs(ParseJobs(first, Requirer).Jobs(), Requirer)
			if err != nil {
				t.Fatal(err)
			}
			if again != first {
				t.Fatalf("second write differs:\n%s\n%s", first, again)
			}
		}
		bag := Databag{JobsKey: first}
		if changed, err := bag.SetJobs(l.Jobs(), Requirer); err != nil || changed {
			t.Fatalf("SetJobs of the same jobs: changed=%v err=%v, want no change", changed, err)
		}
	}
}

func TestProviderWriteMasksCredentials(t *testing.T) {
	l := ParseJobs("["+goodReport+"]", Provider)
	out, err := MarshalJobs(l.Jobs(), Provider)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "CANARY") {
		t.Fatalf("provider report republishes a credential: %s", out)
	}
	again := ParseJobs(out, Provider)
	if ps := again.AllProblems(); len(ps) > 0 {
		t.Fatalf("masked report is not valid: %v", ps)
	}
	if got := again.Jobs()[0].Storage.AccessKey; got != Mask {
		t.Fatalf("access-key = %q, want %q", got, Mask)
	}
}

func TestRequirerWriteNeedsJobConfig(t *testing.T) {
	_, err := MarshalJobs([]Job{{ID: "j", Type: Backup}}, Requirer)
	if err == nil || !strings.Contains(err.Error(), "job-config") {
		t.Fatalf("err = %v, want one naming job-config", err)
	}
}

func TestParseStorageConfig(t *testing.T) {
	s, ps := ParseStorageConfig([]byte(`{"bucket":"b","access-key":"CANARY-A","secret-key":"CANARY-S","s3-api-version":"4","attributes":"a=1;b=2"}`))
	if len(ps) != 0 || s.Bucket != "b" || s.APIVersion != 4 || len(s.Attributes) != 2 {
		t.Fatalf("got %+v, %v", s.Redacted(), ps)
	}
	_, ps = ParseStorageConfig([]byte(`{"bucket":"","secret-key":"CANARY-S"}`))
	if got := ps.Error(); !strings.Contains(got, "storage-config.bucket: must not be empty") || !strings.Contains(got, "storage-config.access-key: required") || strings.Contains(got, "CANARY") {
		t.Fatalf("problems = %q", got)
	}
	if _, ps = ParseStorageConfig([]byte(`[1]`)); len(ps) != 1 {
		t.Fatalf("an array was accepted: %v", ps)
	}
}
