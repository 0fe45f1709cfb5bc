// Package mysql backs up and restores MariaDB (and MySQL) by driving
// mariadb-dump and the mariadb client, or mysqldump and mysql where only
// those are installed.
//
// A backup is plain SQL from "mariadb-dump --single-transaction --routines
// --triggers --events --hex-blob", uncompressed (the artefact pipeline
// compresses with zstd), preceded by one comment line of ours that says
// whether it holds one database or all of them. The restore feeds it to
// the client on stdin, which stops at the first error. Plain SQL restores are
// not transactional (DDL commits), so a failed restore leaves the tables
// restored up to the failing statement: the artefact layer verifies a backup
// before a byte of it reaches the server, and a read failure kills the
// client before it can take a truncated stream for the whole one.
//
// On a MariaDB server that writes a binary log, every backup also records
// where it stands in it (position.go), so that ArchiveBinlogs (archive.go)
// and ReplayBinlogs (replay.go) can restore it to any second after it:
// binlogfile.go reads the binary log format just enough to check what is
// stored and replayed.
//
// The password travels in a 0600 option file (--defaults-extra-file),
// removed after each run, never on a command line.
package mysql

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// FormatSQL is the stream format Backup writes, recorded in Result.Format.
const FormatSQL = "mysql-sql-v1"

// systemSchemas are never part of a backup of all databases: the server
// makes them. Accounts, roles and grants are backed up as SQL of their
// own (accounts.go).
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// Options tune an Engine.
type Options struct {
	// BinDir is the folder of mariadb-dump and mariadb (or mysqldump and
	// mysql); empty means PATH.
	BinDir string
}

// Engine backs up and restores one MariaDB or MySQL server.
type Engine struct {
	conn engine.Conn
	opts Options
}

var _ engine.Engine = (*Engine)(nil)

// New returns an Engine for the server and scope conn describes.
func New(conn engine.Conn, opts Options) *Engine {
	return &Engine{conn: conn, opts: opts}
}

// Kind returns engine.MySQL.
func (e *Engine) Kind() engine.Kind { return engine.MySQL }

// Check connects to the server (and to Conn.Database when set) and runs a
// query.
func (e *Engine) Check(ctx context.Context) error {
	_, err := e.version(ctx, e.conn.Database)
	return err
}

// ServerVersion returns the server's VERSION(), e.g.
// "10.11.19-MariaDB-0+deb12u1".
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	return e.version(ctx, "")
}

func (e *Engine) version(ctx context.Context, db string) (string, error) {
	out, err := e.query(ctx, db, "SELECT VERSION()")
	if err != nil {
		var te *engine.ToolError
		if errors.As(err, &te) && len(te.Tail) > 0 {
			return "", fmt.Errorf("cannot connect to MariaDB/MySQL at %s: %s", e.conn.Addr(), te.Tail[len(te.Tail)-1])
		}
		return "", fmt.Errorf("cannot connect to MariaDB/MySQL at %s: %w", e.conn.Addr(), err)
	}
	return strings.TrimSpace(out), nil
}

// client and dumper find the tools, MariaDB's names first.
func (e *Engine) client() (string, error) { return tool.Find(e.opts.BinDir, "mariadb", "mysql") }
func (e *Engine) dumper() (string, error) {
	return tool.Find(e.opts.BinDir, "mariadb-dump", "mysqldump")
}

// withOptionFile writes the connection settings and password to a private
// option file, runs fn with the --defaults-extra-file argument that names
// it, and removes the file.
func (e *Engine) withOptionFile(fn func(arg string) error) error {
	f, err := os.CreateTemp("", "dbbackup-*.cnf")
	if err != nil {
		return fmt.Errorf("cannot write the client option file: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the client option file: %w", err)
	}
	_, werr := f.WriteString(optionFile(e.conn))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("cannot write the client option file: %w", werr)
	}
	return fn("--defaults-extra-file=" + filepath.Clean(f.Name()))
}

// optionFile returns the [client] group for conn. Values are quoted, with
// backslash escapes, so any password survives the option file parser.
func optionFile(c engine.Conn) string {
	var b strings.Builder
	b.WriteString("[client]\n")
	fmt.Fprintf(&b, "host=%s\nport=%d\nprotocol=tcp\n", quoteOption(c.Host), c.Port)
	if c.User != "" {
		fmt.Fprintf(&b, "user=%s\n", quoteOption(c.User))
	}
	if c.Password != "" {
		fmt.Fprintf(&b, "password=%s\n", quoteOption(c.Password))
	}
	return b.String()
}

// quoteOption quotes an option file value.
func quoteOption(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// run runs one tool with the option file as its first argument.
func (e *Engine) run(ctx context.Context, c tool.Cmd) error {
	c.Secrets = append(c.Secrets, e.conn.Password)
	return e.withOptionFile(func(arg string) error {
		c.Args = append([]string{arg}, c.Args...)
		return tool.Run(ctx, c)
	})
}

// query runs SQL through the client in database db ("" for none) and
// returns its tab-separated output without column names. The connection
// speaks utf8mb4 whatever the locale, so a name in sql means what it says
// (a client in the C locale would send it as latin1).
func (e *Engine) query(ctx context.Context, db, sql string) (string, error) {
	p, err := e.client()
	if err != nil {
		return "", err
	}
	args := []string{"--batch", "--skip-column-names", "--raw", "--connect-timeout=30", "--default-character-set=utf8mb4"}
	if db != "" {
		args = append(args, "--database="+db)
	}
	var out strings.Builder
	err = e.run(ctx, tool.Cmd{Path: p, Args: args, Stdin: strings.NewReader(sql), Stdout: &out})
	return out.String(), err
}

// databases lists the user databases, sorted; names travel in hex so that
// any byte in a name survives the client's output.
func (e *Engine) databases(ctx context.Context) ([]string, error) {
	quoted := make([]string, len(systemSchemas))
	for i, s := range systemSchemas {
		quoted[i] = "'" + s + "'"
	}
	out, err := e.query(ctx, "", "SELECT HEX(schema_name) FROM information_schema.schemata WHERE schema_name NOT IN ("+
		strings.Join(quoted, ", ")+") ORDER BY schema_name")
	if err != nil {
		return nil, fmt.Errorf("cannot list the databases: %w", err)
	}
	var dbs []string
	for _, h := range strings.Fields(out) {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("cannot list the databases: bad name %q", h)
		}
		dbs = append(dbs, string(b))
	}
	return dbs, nil
}

// quoteIdent quotes a MariaDB identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// checkMethod refuses what this engine cannot do yet.
func checkMethod(op string, m engine.Method) error {
	if m != "" && m != engine.MethodLogical {
		return fmt.Errorf("cannot %s MariaDB with method %q: %w", op, m, engine.ErrUnsupportedMethod)
	}
	return nil
}

// result starts a Result with what every backup and restore reports.
func (e *Engine) result(ctx context.Context, toolPath string) (engine.Result, error) {
	r := engine.Result{Kind: engine.MySQL, Method: engine.MethodLogical, Format: FormatSQL, Tool: filepath.Base(toolPath)}
	v, err := e.ServerVersion(ctx)
	if err != nil {
		return r, err
	}
	r.ServerVersion = v
	if r.ToolVersion, err = tool.Version(ctx, toolPath); err != nil {
		return r, err
	}
	return r, nil
}

// maxPacket lets rows up to this size through the dump and the client.
var maxPacket = "--max-allowed-packet=" + strconv.Itoa(1<<30)
