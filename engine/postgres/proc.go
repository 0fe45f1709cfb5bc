package postgres

import (
	"syscall"

	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// receiverAttr runs pg_receivewal as every tool of ours runs: in its own
// process group, killed when the archiver dies (even by SIGKILL, on
// Linux), so that a restarted archiver never finds an orphan still
// holding the slot and writing into the spool.
func receiverAttr() *syscall.SysProcAttr {
	return tool.ChildAttr()
}
