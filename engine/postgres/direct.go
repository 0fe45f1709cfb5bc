package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbbackup/dbbackup/internal/secret"
)

// The WAL archiver measures its lag and its slot every few seconds for as
// long as it runs. Through psql each measurement started a process of
// 11.5 MiB (libpq and its libraries) beside pg_receivewal and the
// archiver, the peak of the archiver's tree (issue 12); so these
// measurements speak the protocol in-process with pgconn, the connection
// layer of the pgx driver, over one connection configured as the tools'
// (the same host, port, user and password, and the PG* environment, such
// as PGSSLMODE, for everything else).

// connectTimeout bounds a connection, a tool's (PGCONNECT_TIMEOUT) and
// this process's; it also bounds one in-process query.
const connectTimeout = 30 * time.Second

// connParam is one setting of the connection: its libpq environment
// variable (for the tools), its keyword (for a connection string) and its
// value.
type connParam struct{ env, keyword, value string }

// connParams are the settings of a connection to database db but the
// password, which the tools take from the environment and pgconn from its
// configuration.
func (e *Engine) connParams(db string) []connParam {
	return []connParam{
		{"PGHOST", "host", e.conn.Host},
		{"PGPORT", "port", strconv.Itoa(e.conn.Port)},
		{"PGUSER", "user", e.conn.User},
		{"PGDATABASE", "dbname", db},
		{"PGAPPNAME", "application_name", "dbbackup"},
		{"PGCONNECT_TIMEOUT", "connect_timeout", strconv.Itoa(int(connectTimeout.Seconds()))},
	}
}

// connString is the key/value connection string of database db, each
// value quoted.
func (e *Engine) connString(db string) string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	var kv []string
	for _, p := range e.connParams(db) {
		kv = append(kv, p.keyword+"='"+quote.Replace(p.value)+"'")
	}
	return strings.Join(kv, " ")
}

// queryDirect runs one statement with parameters on database db in this
// process and returns its rows, each field as text (nil for NULL).
func (e *Engine) queryDirect(ctx context.Context, db, sql string, params ...string) ([][][]byte, error) {
	cfg, err := pgconn.ParseConfig(e.connString(db))
	if err != nil {
		return nil, fmt.Errorf("cannot configure the connection: %w", err)
	}
	if e.conn.Password != "" {
		cfg.Password = e.conn.Password
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, secret.Guard(err, []string{e.conn.Password})
	}
	defer c.Close(ctx) // bounded too: past it, the socket is closed without a goodbye
	values := make([][]byte, len(params))
	for i, p := range params {
		values[i] = []byte(p)
	}
	res := c.ExecParams(ctx, sql, values, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, secret.Guard(res.Err, []string{e.conn.Password})
	}
	return res.Rows, nil
}
