package main

import (
	"fmt"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/engine"
)

// config is the charm's config.
type config struct {
	Engine            string `json:"engine"`
	Host              string `json:"host"`
	Port              int    `json:"port"`
	User              string `json:"user"`
	Databases         string `json:"databases"`
	PasswordSecret    string `json:"password-secret"`
	MaxBackupsPerUnit int    `json:"max-backups-per-unit"`
	ExtraUserRoles    string `json:"extra-user-roles"`
	MetricsAddress    string `json:"metrics-address"`
	BackupMaxAge      string `json:"backup-max-age"`
	ArchiveLogs       bool   `json:"archive-logs"`
	DataDirectory     string `json:"data-directory"`
	ServerControl     string `json:"server-control"`
	// ArchiveWarnRetainedMiB is archive-warn-retained-mib; nil when the
	// config does not give it (a model of an older charm).
	ArchiveWarnRetainedMiB *int64 `json:"archive-warn-retained-mib"`
}

// Bounds and default of archive-warn-retained-mib.
const (
	defaultWarnRetainedMiB = 1024
	maxWarnRetainedMiB     = 1 << 20 // 1 TiB
)

// warnRetained is archive-warn-retained-mib in bytes, or what a person
// must fix (the default applies meanwhile).
func (c config) warnRetained() (int64, string) {
	if c.ArchiveWarnRetainedMiB == nil {
		return defaultWarnRetainedMiB << 20, ""
	}
	n := *c.ArchiveWarnRetainedMiB
	if n < 0 || n > maxWarnRetainedMiB {
		return defaultWarnRetainedMiB << 20, fmt.Sprintf("invalid config: archive-warn-retained-mib %d is not from 0 to %d", n, maxWarnRetainedMiB)
	}
	return n << 20, ""
}

// metrics is the metrics part of the config.
func (c config) metrics() backupagent.MetricsConfig {
	return backupagent.MetricsConfig{Address: c.MetricsAddress, MaxAge: c.BackupMaxAge}
}

// database turns the config into the runner's database, or says what a
// person must fix (never repeating the password).
func database(c config) (backupagent.Database, string) {
	db := backupagent.Database{Engine: engine.Kind(c.Engine), Host: c.Host, Port: c.Port, User: c.User}
	if strings.ContainsAny(c.Databases, ", ") {
		return db, "config databases: give one database or none (all databases)"
	}
	switch db.Engine {
	case engine.PostgreSQL:
		if db.Port == 0 {
			db.Port = 5432
		}
	case engine.MySQL:
		if db.Port == 0 {
			db.Port = 3306
		}
	case "":
		return db, "set config engine (postgresql or mysql), or relate postgresql or mysql"
	default:
		return db, "config engine: " + c.Engine + " is not postgresql or mysql"
	}
	if db.Host == "" {
		return db, "set config host"
	}
	if db.User == "" {
		return db, "set config user"
	}
	db.Database = firstDatabase(c.Databases)
	if c.PasswordSecret == "" {
		return db, "set config password-secret to a secret id with key password"
	}
	content, err := goops.GetSecretByID(c.PasswordSecret, false, true)
	if err != nil {
		return db, "config password-secret: cannot read the secret (grant it to this application): " + firstLine(err.Error())
	}
	if content["password"] == "" {
		return db, "config password-secret: the secret has no key password"
	}
	db.Password = content["password"]
	return db, ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
