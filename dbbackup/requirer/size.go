package requirer

import (
	"strconv"
	"unicode/utf8"
)

// MaxHistoryBytes bounds the stored size of a history's terminal records:
// Merge drops the earliest finished ones beyond it, as beyond
// MaxCompleted. With the pending jobs (bounded by the limit of CanRequest)
// and the Dropped summaries, a stored history stays well under 1 MiB.
const MaxHistoryBytes = 640 << 10

// recordOverhead bounds the bytes of a stored record besides its strings:
// the keys, quotes and punctuation, four times and the api version (470:
// 400 before key-fingerprint, whose key and quotes take 21 more, and
// method and restore-to-time 33 more).
const recordOverhead = 470

// recordSize returns an upper bound of the bytes r takes in the stored
// history (see Marshal).
func recordSize(r Record) int {
	n := recordOverhead
	for _, s := range []string{
		r.JobID, r.Application, string(r.Type), string(r.Source), r.Unit, string(r.Status), r.Message, r.ArtefactPath, r.KeyFingerprint, string(r.Method), restoreTimeText(r.RestoreToTime),
		r.Storage.Bucket, r.Storage.Path, r.Storage.Endpoint, r.Storage.Region, r.Storage.URIStyle, r.Storage.StorageClass,
	} {
		n += jsonLen(s)
	}
	return n + len(strconv.Itoa(r.Storage.APIVersion))
}

// jsonLen returns the bytes of s as a JSON string body written by
// encoding/json without HTML escaping: \" \\ \n \r \t take two bytes, other
// control characters, U+2028, U+2029 and invalid bytes (\ufffd) six.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}
