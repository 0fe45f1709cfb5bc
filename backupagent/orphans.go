package backupagent

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// binlogSpool is the folder in the journal where the binary log archiver
// has mariadb-binlog write what it receives.
const binlogSpool = "binlog-spool"

// clearBinlogSpool makes the spool ready for a new archiver (which holds
// the archiver's lock, so no other archiver uses it): a mariadb-binlog
// left by an archiver that was SIGKILLed (the tool runs in its own process
// group and outlives it) is killed, and the folders it and its archiver
// left are removed. Nothing is lost: the new archiver resumes from the
// archive's listing, and the server still has the files.
func clearBinlogSpool(spool string, log io.Writer) error {
	for _, pid := range processesWithArg("--result-file=" + spool + string(filepath.Separator)) {
		fmt.Fprintf(log, "killing mariadb-binlog %d, left by an archiver that died\n", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := os.RemoveAll(spool); err != nil {
		return fmt.Errorf("cannot clear the binary log spool: %w", err)
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return fmt.Errorf("cannot make the binary log spool: %w", err)
	}
	return nil
}

// processesWithArg returns this user's processes one of whose arguments
// starts with prefix (from /proc; none where there is no /proc).
func processesWithArg(prefix string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone, or another user's
		}
		for _, arg := range bytes.Split(data, []byte{0}) {
			if bytes.HasPrefix(arg, []byte(prefix)) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
