package manager

import (
	"regexp"
	"strconv"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
)

// versionPattern reads the leading numbers of a server's version string
// ("15.4 (Ubuntu 15.4-1)", "10.11.6-MariaDB-0ubuntu0.24.04.1").
var versionPattern = regexp.MustCompile(`^(\d{1,4})(?:\.(\d{1,4}))?`)

// releaseOf returns the release line of a server version, the part a dump
// must not be newer than: the major version of PostgreSQL 10 and later
// (9.6 before), major.minor of MariaDB and MySQL. ok is false for a
// version it cannot read.
func releaseOf(kind engine.Kind, v string) (rel [2]int, ok bool) {
	m := versionPattern.FindStringSubmatch(v)
	if m == nil {
		return rel, false
	}
	rel[0], _ = strconv.Atoi(m[1])
	if m[2] != "" && (kind != engine.PostgreSQL || rel[0] < 10) {
		rel[1], _ = strconv.Atoi(m[2])
	}
	return rel, true
}

// compatibleVersion refuses to restore backup b into app when app's own
// backup s shows it runs an older release than the one b was taken of: a
// dump of a newer server may use what an older one lacks. Unknown versions
// (backups whose manifest records none, made by an older dbbackup) are let through; the
// database tools have the last word.
func compatibleVersion(b, s artefact.Summary, app string) error {
	from, ok1 := releaseOf(b.Engine, b.ServerVersion)
	to, ok2 := releaseOf(s.Engine, s.ServerVersion)
	if !ok1 || !ok2 || from[0] < to[0] || from[0] == to[0] && from[1] <= to[1] {
		return nil
	}
	return fail("backup %s was taken of %s %s, but %s runs the older %s (backup %s): restore it into an application of the same release or a newer one",
		b.JobID, b.Engine, clipText(b.ServerVersion, 40), app, clipText(s.ServerVersion, 40), s.JobID)
}
