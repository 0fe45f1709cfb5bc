package engine

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
