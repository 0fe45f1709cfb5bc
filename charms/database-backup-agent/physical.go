package main

import (
	"os"
	"path/filepath"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/engine"
)

// withServerControl adds the config of physical PostgreSQL restores
// (data-directory and server-control) to db, or says what a person must
// fix: both or neither, for PostgreSQL only, a data directory that is one.
func withServerControl(c config, db backupagent.Database) (backupagent.Database, string) {
	if c.DataDirectory == "" && c.ServerControl == "" {
		return db, ""
	}
	if db.Engine != engine.PostgreSQL {
		return db, "config data-directory and server-control are for PostgreSQL (a MariaDB/MySQL restore to a time needs neither): unset them"
	}
	if c.DataDirectory == "" || c.ServerControl == "" {
		return db, "config data-directory and server-control go together: set both (or neither)"
	}
	if _, err := backupagent.ParseServerControl(c.ServerControl); err != nil {
		return db, "config " + err.Error()
	}
	dir := c.DataDirectory
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || dir == "/" {
		return db, "config data-directory " + clipConfig(dir) + " must be a clean absolute path"
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return db, "config data-directory " + clipConfig(dir) + " is not a PostgreSQL data directory on this machine (no PG_VERSION)"
	}
	db.DataDir, db.ServerControl = dir, c.ServerControl
	return db, ""
}

func clipConfig(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
