package tool

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// fGetPipeSize is F_GETPIPE_SZ (Linux fcntl.h).
const fGetPipeSize = 1032

func pipeBufferSize(t *testing.T, f syscall.Conn) int {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size uintptr
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		size, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, fGetPipeSize, 0)
	}); err != nil || errno != 0 {
		t.Fatalf("F_GETPIPE_SZ: %v %v", err, errno)
	}
	return int(size)
}

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if got := pipeBufferSize(t, r); got >= pipeSize {
		t.Skipf("pipes start at %d bytes here", got)
	}
	growPipe(w)
	if got, want := pipeBufferSize(t, r), pipeSize; got != want {
		t.Fatalf("pipe buffer %d bytes, want %d", got, want)
	}
}

// TestRunReadsLargeChunks checks that the tool's output arrives in reads
// larger than os.File's 32 KiB copy buffer once the pipe is grown.
func TestRunReadsLargeChunks(t *testing.T) {
	var w largestWrite
	// head writes 4 MiB in 128 KiB writes; the reads take what is there.
	err := Run(context.Background(), Cmd{Path: "/bin/sh", Args: []string{"-c", "head -c 4194304 /dev/zero | dd bs=131072 2>/dev/null"}, Stdout: &w})
	if err != nil {
		t.Fatal(err)
	}
	if w.total != 4<<20 {
		t.Fatalf("got %d bytes, want %d", w.total, 4<<20)
	}
	if w.max <= 32<<10 {
		t.Fatalf("largest write %d bytes: the copy still reads 32 KiB at a time", w.max)
	}
}

type largestWrite struct{ max, total int }

func (l *largestWrite) Write(p []byte) (int, error) {
	l.max = max(l.max, len(p))
	l.total += len(p)
	return len(p), nil
}
