// Command dbcharm is a test charm playing the database charm's side of
// postgresql_client / mysql_client: for each relation whose requirer asked
// for a database, its leader creates a user with the requested
// extra-user-roles in the real server and answers database, endpoints and
// the credentials (in a secret-user Juju secret when the requirer listed
// them in requested-secrets, else in the databag).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/gruyaume/goops"
)

type config struct {
	Engine        string `json:"engine"`
	Host          string `json:"host"`
	Port          int    `json:"port"`
	AdminUser     string `json:"admin-user"`
	AdminPassword string `json:"admin-password"`
	UseSecrets    bool   `json:"use-secrets"`
}

func main() {
	if err := run(); err != nil {
		goops.LogErrorf("%v", err)
		os.Exit(1)
	}
}

func run() error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs(c.Engine)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := serve(c, id); err != nil {
			return err
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, "")
}

func serve(c config, id string) error {
	remote, err := goops.GetRelationApp(id)
	if err != nil || remote == "" {
		return err
	}
	req, err := goops.GetAppRelationData(id, remote)
	if err != nil {
		return err
	}
	mine, err := goops.GetAppRelationData(id, strings.Split(goops.ReadEnv().UnitName, "/")[0])
	if err != nil {
		return err
	}
	if req["database"] == "" || mine["endpoints"] != "" {
		return nil // nothing asked, or answered already
	}
	var requested []string
	_ = json.Unmarshal([]byte(req["requested-secrets"]), &requested)
	user := "relation_" + strings.TrimPrefix(id, strings.Split(id, ":")[0]+":")
	buf := make([]byte, 16)
	rand.Read(buf)
	password := hex.EncodeToString(buf)
	if err := createUser(c, req["database"], user, password, req["extra-user-roles"]); err != nil {
		return err
	}
	data := map[string]string{"database": req["database"], "endpoints": fmt.Sprintf("%s:%d", c.Host, c.Port)}
	if c.UseSecrets && slices.Contains(requested, "password") {
		uri, err := goops.AddSecret(&goops.AddSecretOptions{Content: map[string]string{"username": user, "password": password},
			Label: "user-" + strings.ReplaceAll(id, ":", "-"), Owner: goops.OwnerApplication})
		if err != nil {
			return err
		}
		uri = strings.TrimSpace(uri)
		if err := goops.GrantSecretToRelation(uri, id); err != nil {
			return err
		}
		data["secret-user"] = uri
	} else {
		data["username"], data["password"] = user, password
	}
	return goops.SetAppRelationData(id, data)
}

// createUser makes the user in the real server (and the database, on
// MariaDB; the PostgreSQL tests create theirs).
func createUser(c config, db, user, password, roles string) error {
	var cmd *exec.Cmd
	switch c.Engine {
	case "postgresql":
		// As Charmed PostgreSQL's create_user (lib/charms/postgresql_k8s/
		// v0/postgresql.py): the roles lowercased; createdb, createrole and
		// superuser become attributes of the role, other names must be
		// existing roles, granted; anything else is refused.
		attrs, grants := "", ""
		for _, r := range strings.Split(strings.ToLower(roles), ",") {
			switch r = strings.TrimSpace(r); r {
			case "":
			case "createdb", "createrole", "superuser":
				attrs += " " + strings.ToUpper(r)
			case "pg_read_all_data", "pg_write_all_data", "pg_monitor":
				grants += fmt.Sprintf("; GRANT %s TO %s", r, user)
			default:
				return fmt.Errorf("invalid role(s) for extra user roles: %q", r)
			}
		}
		sql := fmt.Sprintf("CREATE ROLE %s LOGIN%s PASSWORD '%s'%s", user, attrs, password, grants)
		cmd = exec.Command("psql", "-h", c.Host, "-p", fmt.Sprint(c.Port), "-U", c.AdminUser, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+c.AdminPassword)
	case "mysql":
		// As Charmed MySQL's create_scoped_user (lib/charms/mysql/v0/
		// mysql.py): no roles, ALL on the database; else each role granted
		// as the user's default role, charmed_backup refused. charmed_dba
		// holds the privileges mysql_shell's CharmAuthorizationQueryBuilder
		// gives it that MariaDB has (on *.*: the data and schema
		// privileges, EVENT, SHOW VIEW, PROCESS, RELOAD, REPLICATION
		// CLIENT).
		grant := fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", db, user)
		if roles != "" {
			var stmts []string
			for _, r := range strings.Split(roles, ",") {
				switch r {
				case "charmed_dba":
					stmts = append(stmts, "CREATE ROLE IF NOT EXISTS charmed_dba",
						"GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, EVENT, ALTER, ALTER ROUTINE, CREATE, CREATE ROUTINE, "+
							"CREATE VIEW, DROP, INDEX, LOCK TABLES, REFERENCES, TRIGGER, SHOW VIEW, PROCESS, RELOAD, "+
							"REPLICATION CLIENT ON *.* TO charmed_dba")
				default:
					return fmt.Errorf("invalid role(s) for extra user roles: %q", r)
				}
				stmts = append(stmts, fmt.Sprintf("GRANT %s TO '%s'@'%%'", r, user), fmt.Sprintf("SET DEFAULT ROLE %s FOR '%s'@'%%'", r, user))
			}
			grant = strings.Join(stmts, "; ")
		}
		sql := fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`; CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; %s;", db, user, password, grant)
		client := "mariadb"
		if _, err := exec.LookPath(client); err != nil {
			client = "mysql"
		}
		cmd = exec.Command(client, "-h", c.Host, "-P", fmt.Sprint(c.Port), "-u", c.AdminUser, "-e", sql)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+c.AdminPassword)
	default:
		return fmt.Errorf("engine %q", c.Engine)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cannot create user %s: %v: %s", user, err, out)
	}
	return nil
}
