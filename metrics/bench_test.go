package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// BenchmarkScrape measures one scrape through the HTTP handler. Its cost
// depends on the applications served, not on the backups a bucket holds:
// the sub-benchmarks with 10 and 100,000 backups per application take the
// same time, since a scrape reads the snapshot and nothing else.
func BenchmarkScrape(b *testing.B) {
	for _, apps := range []int{1, 100} {
		for _, backups := range []int{10, 100000} {
			b.Run(fmt.Sprintf("apps=%d/backups=%d", apps, backups), func(b *testing.B) {
				var st State
				now := time.Now()
				s := Snapshot{}
				for i := range apps {
					s.Apps = append(s.Apps, App{
						Application: fmt.Sprintf("db%d", i),
						LastSuccess: now,
						Last:        []Job{{Type: dbbackup.Backup, Outcome: dbbackup.Success, Started: now.Add(-time.Minute), Ended: now, RawBytes: 1 << 30, StoredBytes: 1 << 28}},
						Counts:      []Count{{Type: dbbackup.Backup, Outcome: dbbackup.Success, Jobs: uint64(backups), Seconds: 60 * float64(backups)}},
						NextBackup:  now.Add(time.Hour),
						MaxAge:      36 * time.Hour,
						Bucket:      &Bucket{Backups: backups, StoredBytes: int64(backups) << 28, Listed: now},
					})
				}
				if err := st.Set(s); err != nil {
					b.Fatal(err)
				}
				h := Handler(&st)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", Path, nil))
					if w.Code != 200 {
						b.Fatalf("status %d", w.Code)
					}
					_, _ = io.Copy(io.Discard, w.Body)
				}
			})
		}
	}
}
