package artefact_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
)

func TestRefOf(t *testing.T) {
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{"pg/job-1/data.zst", "pg/job-1/", true},
		{"pg/job-1/sub/part", "pg/job-1/", true},
		{"pg/job-1/", "", false},
		{"pg/catalog.json", "", false},
		{"pg/_index/job-1", "", false},
		{"data.zst", "", false},
		{"../job-1/x", "", false},
	} {
		ref, ok := artefact.RefOf(tt.key)
		got := ""
		if ok {
			got = ref.Path()
		}
		if got != tt.want || ok != tt.ok || ok && ref.Root != "" {
			t.Errorf("RefOf(%q) = %+v (%q), %v; want %q, %v", tt.key, ref, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseRef reads artefact-paths as the relation carries them and as
// people type them, and refuses what cannot name one backup.
func TestParseRef(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want artefact.Ref
	}{
		{"pg/job-1/", artefact.Ref{Scope: "pg", JobID: "job-1"}},
		{"/pg/job-1", artefact.Ref{Scope: "pg", JobID: "job-1"}},
		{"team/db/pg/job-1/", artefact.Ref{Root: "team/db", Scope: "pg", JobID: "job-1"}},
		{"//team/pg/2026.01_x/", artefact.Ref{Root: "team", Scope: "pg", JobID: "2026.01_x"}},
	} {
		got, err := artefact.ParseRef(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, field string }{
		{"", "artefact-path is empty"},
		{"/", "artefact-path is empty"},
		{"pg/", "must end in <scope>/<job-id>/"},
		{"a/../pg/job-1/", "must not contain empty, '.' or '..' segments"},
		{"a//pg/job-1/", "must not contain empty"},
		{"./pg/job-1/", "must not contain empty"},
		{"pg/../", "must not contain empty"},
		{"pg/_index/", "job id"},
		{"pg/job 1/", "job id"},
		{"-pg/job-1/", "scope"},
		{"team/../job-1/", "must not contain empty"},
		{"team/-x/job-1/", "artefact-path: scope \"-x\""},
		{strings.Repeat("a/", 600) + "pg/job-1/", "longer than 1024"},
	} {
		got, err := artefact.ParseRef(tt.in)
		if err == nil || !errors.Is(err, artefact.ErrBadRef) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("ParseRef(%.40q) = %+v, %v; want an ErrBadRef naming %q", tt.in, got, err, tt.field)
		}
	}
}

// TestRefKeys: every key of a backup is built by its Ref, with and without
// the storage path in front, and a Path reads back as the same Ref.
func TestRefKeys(t *testing.T) {
	ref, err := artefact.NewRef("pg", "job-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		storagePath, path, index string
	}{
		{"", "pg/job-1/", "pg/_index/job-1"},
		{"/", "pg/job-1/", "pg/_index/job-1"},
		{"team/db", "team/db/pg/job-1/", "team/db/pg/_index/job-1"},
		{"/team/db/", "team/db/pg/job-1/", "team/db/pg/_index/job-1"},
	} {
		r := ref.Under(tt.storagePath)
		if got := r.Path(); got != tt.path {
			t.Errorf("Under(%q).Path() = %q, want %q", tt.storagePath, got, tt.path)
		}
		if got := r.IndexKey(); got != tt.index {
			t.Errorf("Under(%q).IndexKey() = %q, want %q", tt.storagePath, got, tt.index)
		}
		if back, err := artefact.ParseRef(r.Path()); err != nil || back != r {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", r.Path(), back, err, r)
		}
	}
	if got := artefact.ScopeFolder(ref.Scope); !strings.HasPrefix(ref.Path(), got) || !strings.HasPrefix(ref.IndexKey(), got) || got != "pg/" {
		t.Errorf("ScopeFolder(%q) = %q, want the prefix of the backup's folder and index entry", ref.Scope, got)
	}
	if got := ref.Under("a").Under("b").Path(); got != "b/a/pg/job-1/" {
		t.Errorf("Under twice = %q, want the outer path in front", got)
	}
	if err := (artefact.Ref{Root: "a//b", Scope: "pg", JobID: "job-1"}).Validate(); !errors.Is(err, artefact.ErrBadRef) || !strings.HasPrefix(err.Error(), "storage path") {
		t.Errorf("Validate of a root with an empty segment = %v, want an ErrBadRef naming the storage path", err)
	}
	for _, tt := range []struct{ scope, id, field string }{
		{"", "job-1", "scope"},
		{"pg", "", "job id"},
		{"pg/x", "job-1", "scope"},
		{"pg", "_index", "job id"},
		{"pg", strings.Repeat("j", 129), "job id"},
	} {
		if _, err := artefact.NewRef(tt.scope, tt.id); err == nil || !errors.Is(err, artefact.ErrBadRef) || !strings.HasPrefix(err.Error(), tt.field) {
			t.Errorf("NewRef(%q, %q) = %v, want an ErrBadRef naming %s", tt.scope, tt.id, err, tt.field)
		}
	}
}

// FuzzParseRef: whatever ParseRef accepts is valid, and its Path reads
// back as the same Ref.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"pg/job-1/", "team/db/pg/job-1", "a/../b/c/", "//x//y//", "pg/_index/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := artefact.ParseRef(in)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseRef(%q) = %+v, which does not validate: %v", in, r, err)
		}
		back, err := artefact.ParseRef(r.Path())
		if err != nil || back != r {
			t.Fatalf("ParseRef(%q) = %+v; its path %q reads back as %+v, %v", in, r, r.Path(), back, err)
		}
		if strings.Contains(r.Path(), "..") && strings.Contains("/"+r.Path(), "/../") {
			t.Fatalf("ParseRef(%q): path %q escapes", in, r.Path())
		}
	})
}
