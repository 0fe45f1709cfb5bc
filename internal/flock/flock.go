// Package flock keeps one process per folder: the runner of a provider
// unit, the schedule ticker of the manager. The lock is an flock(2) on a
// file; the kernel drops it when the holder dies, so a crashed process
// never leaves a stale lock.
package flock

import (
	"errors"
	"os"
	"syscall"
)

// ErrHeld is returned by Take when another process holds the lock.
var ErrHeld = errors.New("the lock is held by another process")

// Take takes the exclusive lock on path (created 0600 if missing) without
// waiting. The lock lasts until the returned file is closed or the process
// ends.
func Take(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrHeld
		}
		return nil, err
	}
	return f, nil
}

// Held reports whether a process holds the lock on path.
func Held(path string) bool {
	f, err := Take(path)
	if err != nil {
		return errors.Is(err, ErrHeld)
	}
	f.Close()
	return false
}
