package tool

import "syscall"

// fSetPipeSize is F_SETPIPE_SZ (Linux fcntl.h).
const fSetPipeSize = 1031

// growPipe asks the kernel for a pipe buffer of pipeSize bytes instead of
// 64 KiB, so the tool and the copier trade fewer, larger reads and
// context switches. It is only advice: a refusal (a limit lowered in
// /proc/sys/fs/pipe-max-size) leaves the pipe as it was.
func growPipe(f syscall.Conn) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, pipeSize)
	})
}
