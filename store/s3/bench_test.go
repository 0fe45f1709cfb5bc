package s3_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

const listCount = 10000

// BenchmarkList lists 10,000 backups in one prefix on versitygw: as
// folders, one per job, as `dbbackup list` does, which must take under a
// second; and, for comparison, every key recursively (slower on versitygw's
// posix backend, which walks the folders).
func BenchmarkList(b *testing.B) {
	srv := testenv.StartVersityGW(b)
	s := newStore(b, newBucket(b, srv), s3.Options{})
	fill(b, s, listCount)
	for _, bm := range []struct {
		name      string
		prefix    string
		recursive bool
		limit     time.Duration
	}{
		{"folders", "backups/", false, time.Second},
		{"keys", "backups/", true, 0},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				start := time.Now()
				n := 0
				for _, err := range s.List(context.Background(), bm.prefix, store.ListOptions{Recursive: bm.recursive}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				worst = max(worst, time.Since(start))
				if n != listCount {
					b.Fatalf("listed %d, want %d", n, listCount)
				}
			}
			b.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
			if bm.limit > 0 && worst > bm.limit {
				b.Errorf("a listing of %d took %v, want under %v", listCount, worst, bm.limit)
			}
		})
	}
}

// fill puts n small manifests, one per job folder, 16 at a time.
func fill(b *testing.B, s store.Store, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				key := fmt.Sprintf("backups/job-%05d/manifest.json", i)
				if _, err := s.Put(context.Background(), key, bytesReader("{}"), store.PutOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkPut200MiB streams 200 MiB of unknown size to versitygw and
// reports the throughput and the peak heap in use during the upload.
func BenchmarkPut200MiB(b *testing.B) {
	const size = 200 << 20
	srv := testenv.StartVersityGW(b)
	s := newStore(b, newBucket(b, srv), s3.Options{})
	b.SetBytes(size)
	var peak uint64
	for b.Loop() {
		runtime.GC()
		stop := sampleHeap(&peak)
		if _, err := s.Put(context.Background(), "big", io.LimitReader(pattern{}, size), store.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		stop()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// pattern is an endless reader of non-zero bytes that never holds more
// than the caller's buffer.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return len(p), nil
}

// sampleHeap records the largest HeapInuse into peak until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
