package main

import (
	"fmt"
	"os"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
)

// openEngine checks --engine against --database-url and makes the engine;
// the password comes from PGPASSWORD or MYSQL_PWD, never the command line.
func openEngine(kind, rawURL string) (engine.Engine, engine.Conn, error) {
	if kind != string(engine.PostgreSQL) && kind != string(engine.MySQL) {
		return nil, engine.Conn{}, fmt.Errorf("--engine must be postgresql or mysql, got %q", kind)
	}
	if rawURL == "" {
		return nil, engine.Conn{}, fmt.Errorf("--database-url is required")
	}
	urlKind, conn, err := engine.ParseURL(rawURL)
	if err != nil {
		return nil, conn, fmt.Errorf("--database-url: %v", err)
	}
	if string(urlKind) != kind {
		return nil, conn, fmt.Errorf("--database-url is a %s URL but --engine is %s", urlKind, kind)
	}
	if conn.Password != "" {
		return nil, conn, fmt.Errorf("--database-url: put the password in PGPASSWORD or MYSQL_PWD, not in the URL (command lines are visible to every user)")
	}
	switch engine.Kind(kind) {
	case engine.PostgreSQL:
		conn.Password = os.Getenv("PGPASSWORD")
		return postgres.New(conn, postgres.Options{}), conn, nil
	default:
		conn.Password = os.Getenv("MYSQL_PWD")
		return mysql.New(conn, mysql.Options{}), conn, nil
	}
}
