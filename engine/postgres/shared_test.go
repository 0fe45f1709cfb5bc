package postgres_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// One PostgreSQL server serves every test of the package that changes only
// databases of its own (by name) and no cluster-wide state: starting a
// server costs seconds. Tests that restore or change the whole cluster
// (roles, every database, the superuser's password) start their own.
var shared struct {
	once     sync.Once
	p        *testenv.Postgres
	skip     string // why the server is unavailable (not in CI)
	fail     string // why it could not start
	cleanups []func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(shared.cleanups) - 1; i >= 0; i-- {
		shared.cleanups[i]()
	}
	os.Exit(code)
}

// sharedPostgres returns the package's shared server, starting it on first
// use; it stops after the last test.
func sharedPostgres(t *testing.T) *testenv.Postgres {
	t.Helper()
	shared.once.Do(func() {
		defer func() {
			if r := recover(); r != nil && r != errStop {
				panic(r)
			}
		}()
		shared.p = testenv.StartPostgres(mainT{})
	})
	switch {
	case shared.fail != "":
		t.Fatal(shared.fail)
	case shared.skip != "":
		t.Skip(shared.skip)
	}
	return shared.p
}

// errStop ends StartPostgres where a test's Fatalf or Skipf would.
var errStop = errors.New("stop")

// mainT is the testenv.T of the shared server, which outlives any one test.
type mainT struct{}

func (mainT) Helper() {}
func (mainT) Fatalf(format string, args ...any) {
	shared.fail = fmt.Sprintf(format, args...)
	panic(errStop)
}
func (mainT) Skipf(format string, args ...any) {
	shared.skip = fmt.Sprintf(format, args...)
	panic(errStop)
}
func (mainT) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (mainT) Cleanup(f func())                { shared.cleanups = append(shared.cleanups, f) }
func (mainT) TempDir() string {
	dir, err := os.MkdirTemp("", "dbbackup-pg-shared-")
	if err != nil {
		mainT{}.Fatalf("cannot make a folder: %v", err)
	}
	shared.cleanups = append(shared.cleanups, func() { _ = os.RemoveAll(dir) })
	return dir
}
