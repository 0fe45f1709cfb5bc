package bagfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadShapes(t *testing.T) {
	cases := []struct {
		name  string
		doc   string
		want  []string // Kind:Where of each bag
		jobs0 string   // prefix of the first bag's jobs text
	}{
		{"JSON databag", `{"jobs": "[]", "other": "x"}`, []string{"0:databag"}, "[]"},
		{"YAML databag with list", "jobs:\n- job-id: a\n  s3-api-version: 4\n", []string{"0:databag"}, `[{"job-id":"a","s3-api-version":4}]`},
		{"bare array", `[{"job-id":"a"}]`, []string{"0:jobs array"}, `[{"job-id":"a"}]`},
		{"seed relation-info", "relation-info:\n- endpoint: database-backup\n  applcation-data: {}\n  related-units:\n    mysql/0:\n      in-scope: true\n      data:\n        jobs: '[]'\n", []string{"2:mysql/0 (database-backup)"}, "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bags, err := Read([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bags {
				got = append(got, string(rune('0'+b.Kind))+":"+b.Where)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			if !strings.HasPrefix(bags[0].Jobs, c.jobs0) {
				t.Fatalf("jobs = %q, want prefix %q", bags[0].Jobs, c.jobs0)
			}
		})
	}
}

func TestReadShowUnit(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"show-unit-manager.yaml", []string{"2:mysql/0:mysql/0 (relation 3, database-backup)", "2:mysql/1:mysql/1 (relation 3, database-backup)"}},
		{"show-unit-provider.yaml", []string{"1::application data seen by mysql/1 (relation 3, database-backup)", "2:mysql/1:mysql/1 (relation 3, database-backup)"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			bags, err := Read(data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bags {
				got = append(got, string(rune('0'+b.Kind))+":"+b.Unit+":"+b.Where)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"", "empty"},
		{"{unclosed", "cannot read the document"},
		{"42", "want a databag"},
		{`{"jobs": 5}`, "jobs: must be a string"},
		{`{"a": {"b": 1}}`, "neither a jobs field nor a show-unit relation-info"},
		{"relation-info: 5", "want a list"},
	}
	for _, c := range cases {
		_, err := Read([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%q) err = %v, want one containing %q", c.doc, err, c.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"show-unit-manager.yaml", "show-unit-provider.yaml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"jobs":"[]"}`))
	f.Add([]byte("relation-info:\n- related-units: {a/0: {data: {jobs: [1]}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bags, err := Read(data) // must not panic
		if err != nil {
			return
		}
		for _, b := range bags {
			if !b.HasJobs || b.Where == "" {
				t.Fatalf("Read returned a bag without jobs or without a name: %+v", b)
			}
		}
	})
}
