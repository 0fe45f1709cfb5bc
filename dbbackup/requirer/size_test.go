package requirer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
)

func TestJSONLen(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"plain", 5},
		{`"\`, 4},
		{"\n\r\t", 6},
		{"\x00\x1f", 12},
		{"<>&", 3},
		{"é€😀", 2 + 3 + 4},
		{"\u2028\u2029", 12},
		{"\xff\xfe", 12},
	}
	for _, c := range cases {
		if got := jsonLen(c.in); got != c.want {
			t.Errorf("jsonLen(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestRecordSizeIsAnUpperBound checks recordSize against Marshal on random
// records with the longest times and awkward text.
func TestRecordSizeIsAnUpperBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "Z", "9", `"`, `\`, "\n", "\x01", "\u2028", "é", "😀", "\xff", "<", " "}
	text := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	empty, err := History{}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for i := range 2000 {
		r := Record{
			JobID: "job-" + strings.Repeat("x", rng.IntN(120)), Application: "app-" + strings.Repeat("y", rng.IntN(40)),
			Type: dbbackup.Restore, Compression: true, Source: FromSchedule,
			Storage: Storage{
				Bucket: "b" + text(60), Path: text(100), Endpoint: text(100), Region: text(20),
				URIStyle: "path", StorageClass: text(20), APIVersion: 4,
			},
			RequestedAt: far, StartedAt: far, SeenAt: far, FinishedAt: far,
			Unit: "app/" + strings.Repeat("1", rng.IntN(6)+1), Status: dbbackup.Success,
			Message: clip(text(MaxMessage)), ArtefactPath: "p" + text(200),
		}
		if i%2 == 0 {
			r.Type, r.KeyFingerprint = dbbackup.Backup, "0123456789abcdef"
		}
		out, err := History{Records: []Record{r}}.Marshal()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got, bound := len(out)-len(empty)+1, recordSize(r); got > bound {
			t.Fatalf("record %d takes %d bytes, recordSize says at most %d", i, got, bound)
		}
	}
}
