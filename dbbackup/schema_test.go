package dbbackup_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dbbackup/dbbackup/dbbackup"
	spec "github.com/dbbackup/dbbackup/interface/v0"
)

// expectation is one entry of testdata/corpus/expect.json. A case's file
// name says whether the interface wants it valid ("valid-...") or not
// ("invalid-..."); the entry says where the problems are and marks where a
// validator is known to differ from that verdict, and why.
type expectation struct {
	// Paths are the problem paths an invalid case must be reported at.
	Paths []string `json:"paths"`
	// GoPaths replaces Paths for the Go validator where it is known to differ.
	GoPaths []string `json:"go_paths"`
	// GoValid and SchemaValid override the verdict of one validator.
	GoValid     *bool `json:"go_valid"`
	SchemaValid *bool `json:"schema_valid"`
	// Offset marks a text that is not JSON: Go names this byte offset.
	Offset *int `json:"offset"`
	// Why explains every mark.
	Why string `json:"why"`
}

// corpusCase is one file of the corpus.
type corpusCase struct {
	name  string // relative to testdata/corpus, e.g. "requirer/valid-minimal-backup.json"
	side  dbbackup.Side
	valid bool
	text  string
	want  expectation
}

const corpusDir = "testdata/corpus"

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expect map[string]expectation
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&expect); err != nil {
		t.Fatalf("expect.json: %v", err)
	}
	var cases []corpusCase
	seen := map[string]bool{}
	for _, side := range []dbbackup.Side{dbbackup.Requirer, dbbackup.Provider} {
		files, err := filepath.Glob(filepath.Join(corpusDir, string(side), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := string(side) + "/" + filepath.Base(f)
			c := corpusCase{name: name, side: side, text: string(text), want: expect[name]}
			switch base := filepath.Base(f); {
			case strings.HasPrefix(base, "valid-"):
				c.valid = true
			case strings.HasPrefix(base, "invalid-"):
				if len(c.want.Paths) == 0 {
					t.Errorf("%s: invalid case without paths in expect.json", name)
				}
			default:
				t.Errorf("%s: name must start with valid- or invalid-", name)
			}
			marked := c.want.GoValid != nil || c.want.SchemaValid != nil || c.want.GoPaths != nil || c.want.Offset != nil
			if marked && c.want.Why == "" {
				t.Errorf("%s: a marked case needs a why", name)
			}
			seen[name] = true
			cases = append(cases, c)
		}
	}
	for name := range expect {
		if !seen[name] {
			t.Errorf("expect.json names %s, which is not in the corpus", name)
		}
	}
	return cases
}

// decode reads a JSON text as the schema validator wants it.
func decode(text string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader(text))
}

func paths(ps dbbackup.Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Path
	}
	return out
}

// related reports whether a and b are the same path or one is inside the
// other: the schema reports a missing field at its object, and a problem
// in a JSON-string list at the item.
func related(a, b string) bool {
	inside := func(x, y string) bool {
		return strings.HasPrefix(x, y) && (len(x) == len(y) || x[len(y)] == '.' || x[len(y)] == '[')
	}
	return inside(a, b) || inside(b, a)
}

func TestCorpusGoAndSchemaAgree(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 40 {
		t.Fatalf("corpus has %d cases, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantGo, wantSchema := c.valid, c.valid
			if c.want.GoValid != nil {
				wantGo = *c.want.GoValid
			}
			if c.want.SchemaValid != nil {
				wantSchema = *c.want.SchemaValid
			}
			hint := ""
			if c.want.Why != "" {
				hint = "\n(marked in expect.json: " + c.want.Why + "; if this changed on purpose, update the mark)"
			}

			goProblems := dbbackup.ParseJobs(c.text, c.side).AllProblems()
			if got := len(goProblems) == 0; got != wantGo {
				t.Errorf("Go valid = %v, want %v; problems:\n%v%s", got, wantGo, goProblems, hint)
			}
			if len(goProblems) > 0 {
				want := c.want.Paths
				if c.want.GoPaths != nil {
					want = c.want.GoPaths
				}
				got := paths(goProblems)
				for _, p := range want {
					if !contains(got, p) {
						t.Errorf("Go problems %v do not name %s%s", got, p, hint)
					}
				}
			}

			inst, err := decode(c.text)
			if c.want.Offset != nil {
				if err == nil {
					t.Fatalf("text decodes as JSON, but the case is marked not JSON")
				}
				want := fmt.Sprintf("invalid JSON at byte %d ", *c.want.Offset)
				if len(goProblems) != 1 || !strings.Contains(goProblems[0].Msg, want) {
					t.Errorf("Go problems %v, want one containing %q", goProblems, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("cannot decode: %v", err)
			}
			schemaProblems, err := dbbackup.SchemaProblems(c.side, inst)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(schemaProblems) == 0; got != wantSchema {
				t.Errorf("schema valid = %v, want %v; problems:\n%v%s", got, wantSchema, schemaProblems, hint)
			}
			if len(schemaProblems) > 0 {
				got := paths(schemaProblems)
				for _, p := range c.want.Paths {
					found := false
					for _, g := range got {
						found = found || related(g, p)
					}
					if !found {
						t.Errorf("schema problems %v do not point at %s", got, p)
					}
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCorpusCoversTheIssue checks that every rule of the issue has a case.
func TestCorpusCoversTheIssue(t *testing.T) {
	names := map[string]bool{}
	for _, c := range loadCorpus(t) {
		names[c.name] = true
	}
	var want []string
	for _, f := range []string{"job-id", "job-type", "job-config", "storage-interface", "storage-config"} {
		want = append(want, "requirer/invalid-missing-"+f+".json")
	}
	for _, f := range []string{"job-id", "job-type", "status", "storage-interface", "storage-config"} {
		want = append(want, "provider/invalid-missing-"+f+".json")
	}
	want = append(want,
		"requirer/invalid-json-trailing-comma.json", "requirer/invalid-job-id-number.json",
		"requirer/invalid-job-type-unknown.json", "provider/invalid-status-unknown.json",
		"requirer/invalid-job-id-duplicate.json", "requirer/invalid-job-id-empty.json",
		"requirer/invalid-restore-without-artefact-path.json", "provider/valid-restore-without-artefact-path.json",
		"requirer/invalid-artefact-path-escapes.json", "requirer/invalid-s3-path-escapes.json",
		"requirer/invalid-storage-interface-gcs.json",
		"requirer/invalid-s3-missing-bucket.json", "requirer/invalid-s3-missing-access-key.json", "requirer/invalid-s3-missing-secret-key.json",
		"requirer/invalid-job-config-extra-key.json", "requirer/invalid-s3-api-version-3.json",
		"requirer/invalid-s3-uri-style-virtual.json",
		"requirer/valid-s3-all-fields-schema-shapes.json", "requirer/valid-s3-data-platform-libs-json-strings.json",
		"requirer/valid-s3-readme-plain-strings.json", "requirer/valid-unknown-fields-kept.json",
	)
	for _, n := range want {
		if !names[n] {
			t.Errorf("corpus lacks %s", n)
		}
	}
}

// TestPublishedAndSeedExamplesPassBoth runs the examples of the published
// v0 schemas and of the seed (its requirer example fixed) through both
// validators; the seed's requirer example as published is not JSON.
func TestPublishedAndSeedExamplesPassBoth(t *testing.T) {
	cases := []struct {
		file  string
		side  dbbackup.Side
		valid bool
	}{
		{"published-requirer.json", dbbackup.Requirer, true},
		{"published-provider.json", dbbackup.Provider, true},
		{"seed-requirer-fixed.json", dbbackup.Requirer, true},
		{"seed-provider-mysql-0.json", dbbackup.Provider, true},
		{"seed-provider-mysql-1.json", dbbackup.Provider, true},
		{"seed-requirer-invalid.json", dbbackup.Requirer, false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			goProblems := dbbackup.ParseJobs(string(b), c.side).AllProblems()
			if got := len(goProblems) == 0; got != c.valid {
				t.Errorf("Go valid = %v, want %v: %v", got, c.valid, goProblems)
			}
			inst, err := decode(string(b))
			if err != nil {
				if c.valid {
					t.Fatalf("cannot decode: %v", err)
				}
				return
			}
			ps, err := dbbackup.SchemaProblems(c.side, inst)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ps) == 0; got != c.valid {
				t.Errorf("schema valid = %v, want %v: %v", got, c.valid, ps)
			}
			db := dbbackup.Databag{dbbackup.JobsKey: string(b), "other-key": "kept"}
			dps, err := dbbackup.DatabagSchemaProblems(c.side, db)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(dps) == 0; got != c.valid {
				t.Errorf("databag schema valid = %v, want %v: %v", got, c.valid, dps)
			}
		})
	}
}

// schemaDoc reads one of our schema files as a generic document.
func schemaDoc(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSchemaFilesAreConsistent checks what a reader of interface/v0 relies
// on: draft 2019-09, the declared $id, the published examples in examples
// (valid for both validators and for the whole root schema), and the same
// definitions on both sides except for the job.
func TestSchemaFilesAreConsistent(t *testing.T) {
	files := []struct {
		side      dbbackup.Side
		id        string
		b         []byte
		published string
	}{
		{dbbackup.Requirer, spec.RequirerID, spec.Requirer, "published-requirer.json"},
		{dbbackup.Provider, spec.ProviderID, spec.Provider, "published-provider.json"},
	}
	defs := make([]map[string]any, 0, len(files))
	for _, f := range files {
		doc := schemaDoc(t, f.b)
		if doc["$schema"] != "https://json-schema.org/draft/2019-09/schema" || doc["$id"] != f.id {
			t.Errorf("%s: $schema %v, $id %v", f.side, doc["$schema"], doc["$id"])
		}
		c := jsonschema.NewCompiler()
		c.AssertContent()
		root, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(f.id, root); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(f.id)
		if err != nil {
			t.Fatal(err)
		}
		examples, _ := doc["examples"].([]any)
		if len(examples) == 0 {
			t.Errorf("%s: no examples", f.side)
		}
		for i, ex := range examples {
			if err := sch.Validate(ex); err != nil {
				t.Errorf("%s: examples[%d] fails the root schema: %v", f.side, i, err)
			}
			jobs, _ := json.Marshal(ex.(map[string]any)["jobs"])
			if ps := dbbackup.ParseJobs(string(jobs), f.side).AllProblems(); len(ps) > 0 {
				t.Errorf("%s: examples[%d] fails the Go validator: %v", f.side, i, ps)
			}
		}
		pub, err := os.ReadFile(filepath.Join("testdata", f.published))
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(pub, &want); err != nil {
			t.Fatal(err)
		}
		if got := examples[0].(map[string]any)["jobs"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: examples[0].jobs is not the published example", f.side)
		}
		d := doc["$defs"].(map[string]any)
		delete(d, "job")
		delete(d, "jobs")
		defs = append(defs, d)
	}
	if !reflect.DeepEqual(defs[0], defs[1]) {
		t.Errorf("requirer.json and provider.json differ in $defs other than job and jobs")
	}
}

// TestWrittenJobsAreSchemaValid checks that what the Go writer produces
// from every valid case is valid for the schema, on the requirer side as
// written and on the provider side as a masked report.
func TestWrittenJobsAreSchemaValid(t *testing.T) {
	for _, c := range loadCorpus(t) {
		if !c.valid || c.want.GoValid != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			jobs := dbbackup.ParseJobs(c.text, c.side).Jobs()
			check := func(side dbbackup.Side, jobs []dbbackup.Job) string {
				text, err := dbbackup.MarshalJobs(jobs, side)
				if err != nil {
					t.Fatal(err)
				}
				inst, err := decode(text)
				if err != nil {
					t.Fatal(err)
				}
				ps, err := dbbackup.SchemaProblems(side, inst)
				if err != nil {
					t.Fatal(err)
				}
				if len(ps) > 0 {
					t.Errorf("%s write of %s is not schema-valid:\n%v\n%s", side, c.name, ps, text)
				}
				return text
			}
			check(c.side, jobs)
			reports := make([]dbbackup.Job, len(jobs))
			for i, j := range jobs {
				// A report carries the requirer's job with the provider's
				// status; what the requirer wrote as status or message is
				// not carried (MarshalJobs would keep it from Extra).
				j.Extra = maps.Clone(j.Extra)
				delete(j.Extra, "status")
				delete(j.Extra, "message")
				j.Status = dbbackup.Running
				reports[i] = j
			}
			text := check(dbbackup.Provider, reports)
			for _, j := range jobs {
				for _, s := range j.Storage.Secrets() {
					if strings.Contains(text, s) {
						t.Errorf("provider report republishes a credential")
					}
				}
			}
		})
	}
}

// TestSchemaProblemsQuoteNoValue checks that no schema problem quotes a
// credential or an endpoint, whatever the case.
func TestSchemaProblemsQuoteNoValue(t *testing.T) {
	canaries := []string{"AKIAEXAMPLE", "s3cr3t-example", "canary-pw", "12345"}
	for _, c := range loadCorpus(t) {
		inst, err := decode(c.text)
		if err != nil {
			continue
		}
		ps, err := dbbackup.SchemaProblems(c.side, inst)
		if err != nil {
			t.Fatal(err)
		}
		text := ps.Error()
		for _, s := range canaries {
			if strings.Contains(text, s) {
				t.Errorf("%s: schema problems quote %q:\n%s", c.name, s, text)
			}
		}
	}
}

func TestSchemaProblemsNamePaths(t *testing.T) {
	text := `[{"job-id":"a","job-type":"restore","job-config":{"compression":true,"x":1},"storage-interface":"s3",` +
		`"storage-config":{"bucket":"b","access-key":"k","secret-key":"s","attributes":"[\"a=b\",\"bad\"]"}}]`
	inst, err := decode(text)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := dbbackup.SchemaProblems(dbbackup.Requirer, inst)
	if err != nil {
		t.Fatal(err)
	}
	got := paths(ps)
	sort.Strings(got)
	want := []string{"jobs[0]", "jobs[0].job-config", "jobs[0].storage-config.attributes[1]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got paths %v, want %v\n%v", got, want, ps)
	}
}

func TestSchemaProblemsUnknownSide(t *testing.T) {
	if _, err := dbbackup.SchemaProblems("peer", []any{}); err == nil {
		t.Error("no error for an unknown side")
	}
	if _, err := dbbackup.DatabagSchemaProblems("peer", dbbackup.Databag{}); err == nil {
		t.Error("no error for an unknown side")
	}
}

func TestDatabagSchema(t *testing.T) {
	cases := []struct {
		name  string
		side  dbbackup.Side
		bag   dbbackup.Databag
		valid bool
		path  string // a schema problem path, for an invalid case
	}{
		{"empty databag", dbbackup.Requirer, dbbackup.Databag{}, true, ""},
		{"blank jobs", dbbackup.Provider, dbbackup.Databag{"jobs": " "}, true, ""},
		{"jobs not JSON", dbbackup.Requirer, dbbackup.Databag{"jobs": "[{"}, false, "jobs"},
		{"jobs an object", dbbackup.Requirer, dbbackup.Databag{"jobs": "{}"}, false, "jobs"},
		{"provider job without status", dbbackup.Provider, dbbackup.Databag{"jobs": `[{"job-id":"a","job-type":"backup","storage-interface":"s3","storage-config":{"bucket":"b","access-key":"***","secret-key":"***"}}]`}, false, "jobs[0]"},
		{"bad bucket", dbbackup.Requirer, dbbackup.Databag{"jobs": `[{"job-id":"a","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"b/c","access-key":"k","secret-key":"s"}}]`}, false, "jobs[0].storage-config.bucket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := dbbackup.DatabagSchemaProblems(c.side, c.bag)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(ps) == 0; got != c.valid {
				t.Errorf("valid = %v, want %v: %v", got, c.valid, ps)
			}
			if c.path != "" && !contains(paths(ps), c.path) {
				t.Errorf("problems %v do not name %s", paths(ps), c.path)
			}
			goValid := len(c.bag.Jobs(c.side).AllProblems()) == 0
			if goValid != c.valid {
				t.Errorf("Go valid = %v, want %v", goValid, c.valid)
			}
		})
	}
}

// FuzzSchemaAgreement checks that the Go validator and the schema agree on
// any JSON value, apart from the deviations marked in expect.json: duplicate
// job-ids (Go only), s3-api-version numbers such as 4.0 (Go stricter), the
// JSON-string shapes of tls-ca-chain and attributes (Go trims Unicode white
// space and reads null items as ""), and the text null (Go: no job).
func FuzzSchemaAgreement(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.text, c.side == dbbackup.Provider)
	}
	f.Fuzz(func(t *testing.T, text string, provider bool) {
		side := dbbackup.Requirer
		if provider {
			side = dbbackup.Provider
		}
		inst, err := decode(text)
		if err != nil {
			return
		}
		goProblems := dbbackup.ParseJobs(text, side).AllProblems()
		schemaProblems, err := dbbackup.SchemaProblems(side, inst)
		if err != nil {
			t.Fatal(err)
		}
		switch goValid, schemaValid := len(goProblems) == 0, len(schemaProblems) == 0; {
		case goValid == schemaValid:
		case !goValid && allExplained(goProblems, func(p dbbackup.Problem) bool {
			return strings.HasPrefix(p.Msg, "duplicate ") ||
				strings.HasSuffix(p.Path, ".s3-api-version") && isNumber(valueAt(inst, p.Path))
		}):
		case goValid && (inst == nil || allExplained(schemaProblems, func(p dbbackup.Problem) bool {
			return stringShape(inst, p.Path)
		})):
		default:
			t.Errorf("%s: Go valid = %v, schema valid = %v\nGo: %v\nschema: %v\ntext: %s",
				side, goValid, schemaValid, goProblems, schemaProblems, text)
		}
	})
}

func allExplained(ps dbbackup.Problems, known func(dbbackup.Problem) bool) bool {
	for _, p := range ps {
		if !known(p) {
			return false
		}
	}
	return true
}

func isNumber(v any) bool { _, ok := v.(json.Number); return ok }

// stringShape reports whether path is at or under a tls-ca-chain or
// attributes written as a string (the JSON-string shape).
func stringShape(inst any, path string) bool {
	for _, key := range []string{".tls-ca-chain", ".attributes"} {
		if i := strings.Index(path, key); i >= 0 {
			if _, ok := valueAt(inst, path[:i+len(key)]).(string); ok {
				return true
			}
		}
	}
	return false
}

// valueAt finds the value at a problem path such as jobs[0].storage-config.bucket.
func valueAt(inst any, path string) any {
	rest, ok := strings.CutPrefix(path, dbbackup.JobsKey)
	if !ok {
		return nil
	}
	cur := inst
	for rest != "" {
		switch rest[0] {
		case '[':
			end := strings.IndexByte(rest, ']')
			arr, ok := cur.([]any)
			var i int
			if _, err := fmt.Sscan(rest[1:max(end, 1)], &i); end < 0 || !ok || err != nil || i < 0 || i >= len(arr) {
				return nil
			}
			cur, rest = arr[i], rest[end+1:]
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur, rest = obj[rest[1:end+1]], rest[end+1:]
		default:
			return nil
		}
	}
	return cur
}

// TestReadmeExampleIsTheFixedSeed checks that the example of
// interface/v0/README.md is valid JSON for both validators and is the
// seed's requirer example, fixed.
func TestReadmeExampleIsTheFixedSeed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "interface", "v0", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "    jobs: '")
	text, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 {
		t.Fatal("README has no jobs: '...' example")
	}
	if ps := dbbackup.ParseJobs(text, dbbackup.Requirer).AllProblems(); len(ps) > 0 {
		t.Fatalf("Go problems: %v", ps)
	}
	got, err := decode(text)
	if err != nil {
		t.Fatal(err)
	}
	if ps, err := dbbackup.SchemaProblems(dbbackup.Requirer, got); err != nil || len(ps) > 0 {
		t.Fatalf("schema problems: %v %v", ps, err)
	}
	fixed, err := os.ReadFile(filepath.Join("testdata", "seed-requirer-fixed.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := decode(string(fixed))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("README example differs from testdata/seed-requirer-fixed.json")
	}
}
