package requirer_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

var jobIDShape = regexp.MustCompile(`^job-\d{8}T\d{6}Z-[0-9a-f]{8}$`)

func TestNewJobIDShape(t *testing.T) {
	cases := []struct {
		name    string
		now     time.Time
		entropy []byte
		want    string
	}{
		{"utc", t0.Add(62 * time.Second), []byte{0x0a, 0x1b, 0x2c, 0x3d}, "job-20261125T130102Z-0a1b2c3d"},
		{"other zone is written in utc", time.Date(2026, 11, 25, 14, 1, 2, 999, time.FixedZone("CET", 3600)), []byte{0xff, 0, 0, 1}, "job-20261125T130102Z-ff000001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := requirer.NewJobID(c.now, bytes.NewReader(c.entropy))
			if got != c.want {
				t.Errorf("NewJobID() = %q, want %q", got, c.want)
			}
			if !dbbackup.ValidJobID(got) {
				t.Errorf("NewJobID() = %q is not a valid job id", got)
			}
		})
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewJobIDUniqueAndSortable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seeded := readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return len(p), nil
	})
	seen := map[string]bool{}
	var ids []string
	for i := range 5000 {
		now := t0.Add(time.Duration(i/50) * time.Second) // 50 ids per second
		var id string
		if i%2 == 0 {
			id = requirer.NewJobID(now, seeded)
		} else {
			id = requirer.NewJobID(now, failing{}) // the fallback must stay unique too
		}
		if !jobIDShape.MatchString(id) || !dbbackup.ValidJobID(id) {
			t.Fatalf("id %q has the wrong shape", id)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	// Sorting the ids sorts them by time (to the second).
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1][:20] > sorted[i][:20] {
			t.Fatalf("ids out of time order: %q before %q", sorted[i-1], sorted[i])
		}
	}
	if sorted[0][:20] != ids[0][:20] || sorted[len(sorted)-1][:20] != ids[len(ids)-1][:20] {
		t.Errorf("first/last of sorted ids are not the earliest/latest")
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestJobIDTime(t *testing.T) {
	at := time.Date(2026, 11, 25, 13, 1, 2, 0, time.UTC)
	if got, ok := requirer.JobIDTime(requirer.NewJobID(at, nil)); !ok || !got.Equal(at) {
		t.Errorf("JobIDTime(NewJobID(%v)) = %v, %v", at, got, ok)
	}
	for _, id := range []string{"", "job-", "job-x", "job-20261325T000000Z-00000000", "backup-20261125T130102Z-0"} {
		if got, ok := requirer.JobIDTime(id); ok {
			t.Errorf("JobIDTime(%q) = %v, true", id, got)
		}
	}
}
