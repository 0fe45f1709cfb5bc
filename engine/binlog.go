package engine

import (
	"fmt"
	"regexp"
	"strings"
)

// BinlogPosition is where a MariaDB backup stands in the server's binary
// log: the first event after the dump's consistent snapshot. A restore to
// a time replays the archived binary logs from here. Absent from the
// Result of a server without binary logging, and from older manifests.
type BinlogPosition struct {
	// File is the binary log file, e.g. "mariadb-bin.000007".
	File string `json:"file"`
	// Position is the byte offset in File of the first event the backup
	// does not hold.
	Position uint64 `json:"position"`
	// GTID is the server's GTID position at that point, e.g. "0-1-42";
	// empty when the server could not say.
	GTID string `json:"gtid,omitempty"`
}

// BinlogNamePattern matches a binary log file name: the server's basename
// and a sequence number of at least 6 digits, e.g. "mariadb-bin.000007".
var BinlogNamePattern = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{0,110})\.([0-9]{6,10})$`)

// gtidPattern is one GTID: domain, server id and sequence number.
var gtidPattern = regexp.MustCompile(`^[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,20}$`)

// ValidGTID reports whether s is a MariaDB GTID position: 1 to 64 GTIDs
// separated by commas.
func ValidGTID(s string) bool {
	parts := strings.Split(s, ",")
	if len(parts) > 64 {
		return false
	}
	for _, p := range parts {
		if !gtidPattern.MatchString(p) {
			return false
		}
	}
	return true
}

// Validate checks every field of p; each problem names its field.
func (p BinlogPosition) Validate() error {
	switch {
	case !BinlogNamePattern.MatchString(p.File):
		return fmt.Errorf("file: %q is not a binary log file name (BASENAME.NNNNNN)", p.File)
	case p.Position < 4 || p.Position > 1<<40:
		return fmt.Errorf("position: %d is not a position in a binary log file", p.Position)
	case p.GTID != "" && !ValidGTID(p.GTID):
		return fmt.Errorf("gtid: not a GTID position (domain-server-sequence, comma-separated)")
	}
	return nil
}
