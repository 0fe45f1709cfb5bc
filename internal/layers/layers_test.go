package layers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// goPackage is the part of `go list -json` this test reads.
type goPackage struct {
	ImportPath   string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// modulePackages lists every package of the module with its imports.
func modulePackages(t *testing.T) (module string, pkgs []goPackage) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, "go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("cannot read the module path: %v", err)
	}
	module = strings.TrimSpace(string(out))
	cmd := exec.CommandContext(ctx, "go", "list", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("cannot list the module's packages: %v\n%s", err, stderr.Bytes())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("cannot decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages, want the whole module", len(pkgs))
	}
	return module, pkgs
}

// match reports whether the module-relative path rel matches pattern, a
// path or a path ending in "/..." that also matches everything below it.
func match(pattern, rel string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func matchAny(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, rel) })
}

// ruleFor finds the first row of the table for the package rel.
func ruleFor(rel string) (rule, bool) {
	for _, r := range rules {
		if match(r.pkg, rel) {
			return r, true
		}
	}
	return rule{}, false
}

// isStd reports whether an import path is the standard library's: its
// first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// allowed reports whether package from (module-relative) may import imp,
// which is module-relative when internal is true.
func (r rule) allowed(from, imp string, internal bool) bool {
	if !internal {
		return isStd(imp) || slices.ContainsFunc(r.ext, func(p string) bool { return imp == p || strings.HasPrefix(imp, p+"/") })
	}
	return imp == from || matchAny(leaves, imp) || matchAny(r.mod, imp)
}

// violations returns every forbidden import of the module, as "from -> to"
// lines, and which exceptions were used.
func violations(module string, pkgs []goPackage) (bad []string, used map[exception]bool) {
	used = map[exception]bool{}
	rel := func(path string) (string, bool) {
		if path == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	for _, p := range pkgs {
		from, _ := rel(p.ImportPath)
		r, ok := ruleFor(from)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s has no row in the layering table: add one", from))
			continue
		}
		for _, imp := range p.Imports {
			to, internal := rel(imp)
			name := imp
			if internal {
				name = to
			}
			if r.allowed(from, to, internal) {
				continue
			}
			if i := slices.IndexFunc(exceptions, func(e exception) bool {
				return e.from == from && (name == e.to || !internal && strings.HasPrefix(name, e.to+"/"))
			}); i >= 0 {
				used[exceptions[i]] = true
				continue
			}
			bad = append(bad, fmt.Sprintf("%s imports %s", from, name))
		}
		// Test files: what the package may import, the test kit, and
		// for the lower layers never the sides or the tools above.
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			to, internal := rel(imp)
			if !internal {
				continue
			}
			if matchAny(testStrict, from) && matchAny(testForbidden, to) {
				bad = append(bad, fmt.Sprintf("a test of %s imports %s", from, to))
			}
		}
	}
	return bad, used
}

// TestLayers fails when a package imports one its layer may not, and when
// an exception in the table is no longer needed.
func TestLayers(t *testing.T) {
	module, pkgs := modulePackages(t)
	bad, used := violations(module, pkgs)
	for _, b := range bad {
		t.Errorf("layering: %s (see docs/architecture.md, \"Layers\")", b)
	}
	for _, e := range exceptions {
		if !used[e] {
			t.Errorf("layering: exception %s -> %s is no longer needed: remove it from the table", e.from, e.to)
		}
	}
}

// TestLayersCatchesViolations feeds the checker imports the table forbids,
// so a table that allows everything cannot pass.
func TestLayersCatchesViolations(t *testing.T) {
	const m = "example.com/m"
	cases := []goPackage{
		{ImportPath: m + "/engine/postgres", Imports: []string{m + "/artefact"}},
		{ImportPath: m + "/artefact", Imports: []string{m + "/store/s3"}},
		{ImportPath: m + "/dbbackup", Imports: []string{m + "/runner"}},
		{ImportPath: m + "/runner", Imports: []string{m + "/backupagent"}},
		{ImportPath: m + "/store", Imports: []string{"github.com/minio/minio-go/v7"}},
		{ImportPath: m + "/engine", TestImports: []string{m + "/jujusim"}},
		{ImportPath: m + "/newpkg"},
	}
	for _, c := range cases {
		if bad, _ := violations(m, []goPackage{c}); len(bad) != 1 {
			t.Errorf("%s importing %v %v: got %q, want one violation", c.ImportPath, c.Imports, c.TestImports, bad)
		}
	}
	ok := goPackage{ImportPath: m + "/artefact", Imports: []string{"io", m + "/engine", m + "/store", m + "/internal/secret", "github.com/klauspost/compress/zstd"}}
	if bad, _ := violations(m, []goPackage{ok}); len(bad) != 0 {
		t.Errorf("allowed imports reported: %q", bad)
	}
}
