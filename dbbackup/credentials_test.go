package dbbackup

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// verbs are the ways a value gets printed by mistake.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3v"}

// holder is a struct a caller might print, holding the credentials in
// exported fields.
type holder struct {
	Name  string
	Creds Credentials
	Ptr   *Credentials
	Cfg   StorageConfig
	Job   *Job
}

// TestCredentialsNeverPrintThemselves prints credentials, a configuration,
// a job and a struct holding them, every way fmt and encoding/json can.
func TestCredentialsNeverPrintThemselves(t *testing.T) {
	creds := Credentials{AccessKey: "AKCANARY", SecretKey: "SKCANARY"}
	cfg := StorageConfig{Bucket: "b", Credentials: creds, Endpoint: "http://127.0.0.1:9000"}
	job := Job{ID: "j", Storage: cfg}
	h := holder{Name: "h", Creds: creds, Ptr: &creds, Cfg: cfg, Job: &job}
	values := []any{creds, &creds, cfg, &cfg, job, &job, []StorageConfig{cfg}, h, &h, map[string]Credentials{"k": creds}}
	for _, format := range verbs {
		for _, v := range values {
			if got := fmt.Sprintf(format, v); strings.Contains(got, "CANARY") {
				t.Errorf("Sprintf(%q, %T) = %s", format, v, got)
			}
		}
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		if strings.Contains(string(b), "CANARY") {
			t.Errorf("json.Marshal(%T) = %s", v, b)
		}
	}
	if creds.SecretKey != "SKCANARY" || cfg.SecretKey != "SKCANARY" {
		t.Fatal("printing changed the credentials")
	}
}

// TestPrintedConfigurationStaysUseful: masking the credentials must not
// hide the rest of the configuration, nor show a missing key as set.
func TestPrintedConfigurationStaysUseful(t *testing.T) {
	cfg := StorageConfig{Bucket: "bkt", Credentials: Credentials{AccessKey: "AKCANARY"}, Endpoint: "http://127.0.0.1:9000", Path: "team",
		Extra: map[string]json.RawMessage{"session-token": json.RawMessage(`"TOKENCANARY"`)}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(format, cfg)
		for _, want := range []string{"bkt", "127.0.0.1:9000", "team", "AccessKey:***", "SecretKey:}", "session-token"} {
			if !strings.Contains(got, want) {
				t.Errorf("Sprintf(%q) = %s, want %q in it", format, got, want)
			}
		}
		if strings.Contains(got, "CANARY") {
			t.Errorf("Sprintf(%q) = %s: an unknown field's value shows", format, got)
		}
	}
	if got := fmt.Sprintf("%#v", cfg.Credentials); got != `dbbackup.Credentials{AccessKey:"***", SecretKey:""}` {
		t.Errorf("%%#v = %s", got)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["bucket"] != "bkt" || back["access-key"] != Mask || back["secret-key"] != "" || back["path"] != "team" || back["session-token"] != Mask {
		t.Errorf("json.Marshal(cfg) = %s, want the wire's fields with the access key masked", b)
	}
	if got := cfg.Secrets(); len(got) != 1 || got[0] != "AKCANARY" {
		t.Errorf("Secrets() = %q, want the one key set", got)
	}
}
