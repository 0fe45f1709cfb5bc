package postgres

import "syscall"

// receiverAttr runs pg_receivewal in its own process group, killed when
// the archiver dies (even by SIGKILL), so that a restarted archiver never
// finds an orphan still holding the slot and writing into the spool.
func receiverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
