package s3

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// TestReadFirstLeavesLittleGarbage reads the first part of a large object
// and of a small one and checks what readFirst allocates: the part itself
// and at most 1.1 MiB of smaller buffers on the way (a 4-fold growth left
// 5.3 MiB of garbage per upload, which stayed in the process's resident
// memory), and no more than the small object needs for a small one.
func TestReadFirstLeavesLittleGarbage(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789abcdef"), (DefaultPartSize+1000)/16)
	for _, c := range []struct {
		name      string
		size, max int
	}{
		{"large", DefaultPartSize, DefaultPartSize + 1100<<10},
		{"small", 100 << 10, 64<<10 + 1<<20 + 16<<10},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		buf, err := readFirst(io.LimitReader(bytes.NewReader(src), int64(c.size)), DefaultPartSize)
		runtime.ReadMemStats(&after)
		if err != nil || !bytes.Equal(buf, src[:c.size]) {
			t.Fatalf("%s: read %d bytes, err %v; want the first %d", c.name, len(buf), err, c.size)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > uint64(c.max) {
			t.Errorf("%s: readFirst allocated %d bytes for %d, want at most %d", c.name, got, c.size, c.max)
		}
	}
}
