package backupagent

import (
	"errors"
	"fmt"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/runner"
)

// Database is the database a unit backs up and restores into, as the
// charm configures it. The journal keeps it in a 0600 file that the runner
// reads at the start of each job, so a new password applies to the next job.
type Database struct {
	// Engine is postgresql or mysql.
	Engine engine.Kind `json:"engine"`
	// Host, Port, User and Password reach the server.
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
	// Database is the one database to back up; empty means all.
	Database string `json:"database,omitempty"`
	// BinDir is the folder of the engine's tools; empty means PATH.
	BinDir string `json:"bin-dir,omitempty"`
	// DataDir is PostgreSQL's data directory, which a physical restore
	// rewrites (config data-directory); empty: no physical restore.
	DataDir string `json:"data-dir,omitempty"`
	// ServerControl says how a physical restore stops and starts the
	// server (config server-control, see ParseServerControl).
	ServerControl string `json:"server-control,omitempty"`
}

// Conn returns the engine connection.
func (d Database) Conn() engine.Conn {
	return engine.Conn{Host: d.Host, Port: d.Port, User: d.User, Password: d.Password, Database: d.Database}
}

// Open returns the engine for d: the composition root's choice of engine.
func (d Database) Open() (engine.Engine, error) {
	switch d.Engine {
	case engine.PostgreSQL:
		return postgres.New(d.Conn(), postgres.Options{BinDir: d.BinDir}), nil
	case engine.MySQL:
		return mysql.New(d.Conn(), mysql.Options{BinDir: d.BinDir}), nil
	case "":
		return nil, ErrNoDatabase
	}
	return nil, fmt.Errorf("engine %q is not postgresql or mysql", d.Engine)
}

// Name is the engine's name for a person.
func (d Database) Name() string {
	if d.Engine == engine.MySQL {
		return "MariaDB/MySQL"
	}
	return "PostgreSQL"
}

// ErrNoDatabase is returned by ReadDatabase before SetDatabase was called,
// and by Open of an empty Database.
var ErrNoDatabase = errors.New("no database is configured yet")

// databaseValue is the journal value that holds the Database.
const databaseValue = "database.json"

// SetDatabase records the database in j, atomically. It reports whether it
// changed.
func SetDatabase(j runner.Journal, d Database) (bool, error) {
	changed, err := j.SetValue(databaseValue, d)
	if err != nil {
		return false, fmt.Errorf("cannot record the database: %w", err)
	}
	return changed, nil
}

// ReadDatabase reads the database SetDatabase recorded in j.
func ReadDatabase(j runner.Journal) (Database, error) {
	var d Database
	err := j.Value(databaseValue, &d)
	if errors.Is(err, runner.ErrNoValue) {
		return Database{}, ErrNoDatabase
	}
	if err != nil {
		return Database{}, fmt.Errorf("cannot read the database configuration: %w", err)
	}
	return d, nil
}
