package tool

import "syscall"

// ChildAttr returns the process attributes every child of ours starts
// with: its own process group, so that killing the group also kills what
// the tool started; and, on Linux, SIGKILL sent by the kernel when the
// thread that started it dies, so that a dbbackup killed with SIGKILL
// leaves no tool behind (a mariadb-binlog still holding a replication
// connection and writing into a folder nobody reads, a pg_receivewal
// holding the slot). The Go runtime keeps its threads for the life of the
// process unless a goroutine locked to one ends, which ours never do.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
