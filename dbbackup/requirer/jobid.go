package requirer

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// jobIDTime is the time layout inside a job id: UTC, to the second, with no
// character that an S3 key or a job id forbids.
const jobIDTime = "20060102T150405Z"

// fallbackCounter makes ids unique within the process when the entropy
// source fails.
var fallbackCounter atomic.Uint32

// NewJobID returns a new job id made of now (in UTC, to the second) and
// eight hex digits read from entropy, such as
// "job-20261125T130102Z-0a1b2c3d". Ids sort by time and satisfy
// dbbackup.ValidJobID. Pass crypto/rand.Reader in production. If entropy
// is nil or fails, the suffix is a process-wide counter instead, distinct
// for every call of the process (Request refuses a duplicate in any case).
func NewJobID(now time.Time, entropy io.Reader) string {
	var b [4]byte
	if entropy == nil {
		entropy = failingReader{}
	}
	if _, err := io.ReadFull(entropy, b[:]); err != nil {
		n := fallbackCounter.Add(1)
		binary.BigEndian.PutUint32(b[:], n)
	}
	return "job-" + now.UTC().Format(jobIDTime) + "-" + hex.EncodeToString(b[:])
}

// failingReader stands for a missing entropy source.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// JobIDTime returns the time a job id of NewJobID's form holds, and false
// for any other id.
func JobIDTime(id string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(id, "job-")
	if !ok || len(rest) < len(jobIDTime) {
		return time.Time{}, false
	}
	t, err := time.Parse(jobIDTime, rest[:len(jobIDTime)])
	return t, err == nil
}
