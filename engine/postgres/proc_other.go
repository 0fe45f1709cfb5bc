//go:build !linux

package postgres

import "syscall"

// receiverAttr runs pg_receivewal in its own process group.
func receiverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
