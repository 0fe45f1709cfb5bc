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

// directTimeout bounds one in-process query, connection included, as
// PGCONNECT_TIMEOUT bounds a tool's connection.
const directTimeout = 30 * time.Second

// connString is the key/value connection string of database db.
func (e *Engine) connString(db string) string {
	quote := func(v string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	return strings.Join([]string{
		"host=" + quote(e.conn.Host), "port=" + strconv.Itoa(e.conn.Port), "user=" + quote(e.conn.User),
		"dbname=" + quote(db), "application_name=dbbackup", "connect_timeout=30",
	}, " ")
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
	ctx, cancel := context.WithTimeout(ctx, directTimeout)
	defer cancel()
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, secret.Guard(err, []string{e.conn.Password})
	}
	defer c.Close(context.WithoutCancel(ctx))
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
