package requirer_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// TestHistoryStaysUnder1MiB runs 10,000 jobs through Merge, a hundred
// pending at a time (added as Request would, without its copy per job, to
// keep the test fast under -race), and checks the stored history never exceeds 1 MiB,
// with plain messages and with the longest messages full of characters
// that JSON escapes.
func TestHistoryStaysUnder1MiB(t *testing.T) {
	nasty := strings.Repeat("\x01\"\u2028\xff", requirer.MaxMessage)
	cases := []struct {
		name    string
		message string
	}{
		{"plain messages", "mysqldump: Got error: 2013: Lost connection to server during query"},
		{"longest escaped messages", nasty},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			entropy := readerFunc(func(p []byte) (int, error) {
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				return len(p), nil
			})
			var h requirer.History
			now := t0
			largest := 0
			for batch := range 100 {
				var ids []string
				for range 100 {
					now = now.Add(time.Second)
					r := waiting(requirer.NewJobID(now, entropy), "mysql", dbbackup.Backup, 0)
					r.RequestedAt = now
					h.Records = append(h.Records, r) // ids sort by time: as Request would insert it
					ids = append(ids, r.JobID)
				}
				var jobs []dbbackup.Job
				for _, id := range ids {
					jobs = append(jobs, report(id, dbbackup.Backup, dbbackup.Error, c.message, ""))
				}
				h, _ = requirer.Merge(h, "mysql", map[string][]dbbackup.Job{"mysql/0": jobs}, now, time.Hour)
				if batch%5 == 4 {
					text, err := h.Marshal()
					if err != nil {
						t.Fatal(err)
					}
					largest = max(largest, len(text))
				}
			}
			text, err := h.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := requirer.ParseHistory(text); err != nil {
				t.Fatal(err)
			}
			if largest > 1<<20 || len(text) > 1<<20 {
				t.Errorf("history reached %d bytes, over 1 MiB", largest)
			}
			kept := len(h.Records)
			dropped := h.Dropped[0].Error
			if kept+dropped != 10000 {
				t.Errorf("kept %d + dropped %d records, want 10000", kept, dropped)
			}
			t.Log(fmt.Sprintf("10,000 jobs: %d kept, %d dropped, %d bytes stored (largest %d)", kept, dropped, len(text), largest))
		})
	}
}
