//go:build !linux

package tool

import "syscall"

// growPipe does nothing where pipes cannot be resized.
func growPipe(syscall.Conn) {}
