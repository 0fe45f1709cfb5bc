package bench

import (
	"os/exec"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
)

// pgBackRestPath returns pgbackrest's path, or "" when it is not installed.
func pgBackRestPath() string {
	p, _ := exec.LookPath("pgbackrest")
	return p
}

func benchPgBackRest(b *testing.B, p *testenv.Postgres, env []string, n int) {
	b.Skip("not written yet")
}
