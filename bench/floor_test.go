package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/bounded"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// The floor is the simplest pipeline doing a backup's work: the dump tool,
// `zstd -1 -T1`, and an upload of its output as one streamed multipart
// object to the same S3 server. The uploader is this test binary with
// uploadEnv naming a storage configuration file: it puts its stdin under
// the key given as its argument through store/s3, the very client and part
// size (s3.DefaultPartSize, same concurrency) dbbackup uploads with, and
// prints the number of bytes it stored.
const uploadEnv = "DBBACKUP_BENCH_UPLOAD"

func upload(cfgFile string, args []string) int {
	if len(args) != 1 || args[0] == "" {
		fmt.Fprintln(os.Stderr, "upload: want one key")
		return 2
	}
	st, err := openStore(cfgFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "upload: %v\n", err)
		return 2
	}
	obj, err := st.Put(context.Background(), args[0], os.Stdin, store.PutOptions{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "upload: %v\n", err)
		return 1
	}
	fmt.Println(obj.Size)
	return 0
}

// openStore opens the store of a storage configuration file written by
// storageConfigFile, with the options dbbackup uses.
func openStore(cfgFile string) (*s3.Store, error) {
	data, err := bounded.ReadFile(cfgFile, "the storage configuration "+cfgFile, bounded.StorageConfig)
	if err != nil {
		return nil, err
	}
	cfg, ps := dbbackup.ParseStorageConfig(data)
	if len(ps) > 0 {
		return nil, fmt.Errorf("cannot read storage configuration %s: %v", cfgFile, ps.Error())
	}
	return s3.New(cfg, s3.Options{})
}

// floorCmd is `dump | zstd -1 -T1 | upload key` in bash with pipefail, so
// that any stage's failure fails it. dump is the dump tool's argv.
func floorCmd(b testing.TB, env []string, cfgFile, key string, dump ...string) *exec.Cmd {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		b.Fatalf("cannot find zstd for the floor pipeline (scripts/install-bench-tools.sh installs it): %v", err)
	}
	script := `zstd=$1 self=$2 cfg=$3 key=$4; shift 4
"$@" | "$zstd" -1 -T1 -q -c | ` + uploadEnv + `="$cfg" "$self" "$key"`
	args := append([]string{"-o", "pipefail", "-c", script, "floor", zstd, self, cfgFile, key}, dump...)
	c := exec.Command("bash", args...)
	c.Env = env
	return c
}

// checkFloorUpload fails b unless the floor's object holds the bytes its
// uploader said it stored (m's output), and they are more than nothing.
func checkFloorUpload(b testing.TB, cfgFile, key string, m measured) {
	b.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(string(m.stdout)), 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("the floor's uploader printed %q, want a byte count", m.stdout)
	}
	st, err := openStore(cfgFile)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := st.Stat(context.Background(), key)
	if err != nil {
		b.Fatalf("cannot find the floor's upload: %v", err)
	}
	if obj.Size != n {
		b.Fatalf("the floor's upload %s holds %d bytes, its uploader sent %d", key, obj.Size, n)
	}
}
