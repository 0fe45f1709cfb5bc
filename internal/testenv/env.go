// Package testenv starts the real parts tests run against (S3 servers,
// PostgreSQL, MariaDB) on 127.0.0.1 in temporary directories, and decides
// what a test does when one is missing: skip loudly on a laptop, fail in CI.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
)

// InCI reports whether the tests run under CI (CI=true), where every real
// part must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops a test whose real part is missing: it fails under CI and
// skips with a loud message elsewhere.
func Unavailable(t T, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("REQUIRED IN CI: "+format, args...)
	}
	t.Skipf("SKIPPED, real part missing (run .ci/run or the scripts/ installers): "+format, args...)
}

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CacheDir returns the gitignored folder where installers put the tools
// they build (.cache/bin under the repository root).
func CacheDir() string {
	return filepath.Join(RepoRoot(), ".cache")
}
