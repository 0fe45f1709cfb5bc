//go:build !linux

package tool

import "syscall"

// ChildAttr returns the process attributes every child of ours starts
// with: its own process group, so that killing the group also kills what
// the tool started. Systems other than Linux have no parent-death signal:
// a child outlives a dbbackup killed with SIGKILL there.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
