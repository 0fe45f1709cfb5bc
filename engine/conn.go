package engine

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Conn holds how to reach a database server. Password is handed to the tools
// by environment or a private option file, never on a command line, and never
// appears in String or in errors.
type Conn struct {
	Host     string
	Port     int
	User     string
	Password string
	// Database is the one database to back up or restore; empty means all.
	Database string
}

// String returns the connection as a URL without its password.
func (c Conn) String() string {
	u := url.URL{Scheme: "db", Host: c.Addr()}
	if c.User != "" {
		u.User = url.User(c.User)
	}
	if c.Database != "" {
		u.Path = "/" + c.Database
	}
	return strings.TrimPrefix(u.String(), "db:")
}

// Addr returns host:port.
func (c Conn) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// defaultPorts maps the URL schemes ParseURL accepts to their engine kind
// and default port.
var defaultPorts = map[string]struct {
	kind Kind
	port int
}{
	"postgres":   {PostgreSQL, 5432},
	"postgresql": {PostgreSQL, 5432},
	"mysql":      {MySQL, 3306},
	"mariadb":    {MySQL, 3306},
}

// ParseURL parses postgres://user@host:port/dbname or
// mysql://user@host:port/dbname (also postgresql:// and mariadb://). The
// port defaults to the engine's; no database name means all databases. A
// password in the URL is accepted into Conn.Password but never repeated in
// an error.
func ParseURL(raw string) (Kind, Conn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input, which may hold a password.
		return "", Conn{}, fmt.Errorf("cannot parse database URL: malformed")
	}
	def, ok := defaultPorts[u.Scheme]
	if !ok {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: scheme %q is not postgres, postgresql, mysql or mariadb", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: no host (want %s://user@host:port/dbname)", u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: query and fragment are not supported")
	}
	c := Conn{Host: u.Hostname(), Port: def.port}
	if c.Host == "" {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: empty host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", Conn{}, fmt.Errorf("cannot parse database URL: port %q is not 1-65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(db, "/") {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: database name %q contains '/'", db)
	}
	if strings.ContainsRune(db, 0) || strings.ContainsRune(c.User, 0) {
		return "", Conn{}, fmt.Errorf("cannot parse database URL: NUL byte in user or database name")
	}
	c.Database = db
	return def.kind, c, nil
}
