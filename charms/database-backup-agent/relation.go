package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/engine"
)

// The endpoints that bring a database with no manual credentials: Charmed
// PostgreSQL's postgresql_client and Charmed MySQL's mysql_client.
var databaseEndpoints = []struct {
	name string
	kind engine.Kind
	// roles are the extra-user-roles asked for when config
	// extra-user-roles is empty: roles the charm accepts that suffice for
	// a backup and a restore of one database and of all (docs/provider.md
	// says why, from the charms' code). Charmed PostgreSQL takes
	// superuser as a role attribute (createdb, createrole and superuser,
	// lowercased, else existing role names); Charmed MySQL grants
	// existing roles, refuses charmed_backup, and has no "admin":
	// charmed_dba holds the data and schema privileges on every database.
	roles string
}{
	{"postgresql", engine.PostgreSQL, "superuser"},
	{"mysql", engine.MySQL, "charmed_dba"},
}

// relatedDatabase reads the database a related database charm gives. ok is
// false when no such relation exists; problem says what is still missing.
func relatedDatabase(c config) (db backupagent.Database, ok bool, problem string, err error) {
	for _, ep := range databaseEndpoints {
		ids, err := goops.GetRelationIDs(ep.name)
		if err != nil {
			return db, false, "", fmt.Errorf("cannot list the %s relation: %w", ep.name, err)
		}
		if len(ids) == 0 {
			continue
		}
		db, problem, err := fromRelation(c, ep.name, ep.kind, ep.roles, ids[0])
		return db, true, problem, err
	}
	return db, false, "", nil
}

// fromRelation asks for a database on one relation (the leader writes
// database, extra-user-roles and requested-secrets) and reads the answer
// (database, endpoints, and username/password in the secret-user secret
// or, from a provider without secrets, in the databag).
func fromRelation(c config, endpoint string, kind engine.Kind, roles, id string) (backupagent.Database, string, error) {
	db := backupagent.Database{Engine: kind}
	env := goops.ReadEnv()
	name := firstDatabase(c.Databases)
	if name == "" {
		app, _, _ := strings.Cut(env.UnitName, "/")
		name = app // a database must be named; the backup still covers all
	}
	if c.ExtraUserRoles != "" {
		roles = c.ExtraUserRoles
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return db, "", err
	}
	if leader {
		secrets, _ := json.Marshal([]string{"username", "password"})
		if err := goops.SetAppRelationData(id, map[string]string{"database": name, "extra-user-roles": roles,
			"requested-secrets": string(secrets)}); err != nil {
			return db, "", fmt.Errorf("cannot ask for a database on %s: %w", endpoint, err)
		}
	}
	remote, err := goops.GetRelationApp(id)
	if err != nil || remote == "" {
		return db, "waiting for the " + endpoint + " relation", nil
	}
	data, err := goops.GetAppRelationData(id, remote)
	if err != nil {
		return db, "", fmt.Errorf("cannot read what %s gives: %w", remote, err)
	}
	if data["endpoints"] == "" {
		return db, "waiting for " + remote + " to create a user for database " + name, nil
	}
	first, _, _ := strings.Cut(data["endpoints"], ",")
	host, port, err := net.SplitHostPort(strings.TrimSpace(first))
	if err != nil {
		return db, endpoint + " relation: endpoints " + first + " is not host:port", nil
	}
	db.Host = host
	if db.Port, err = strconv.Atoi(port); err != nil {
		return db, endpoint + " relation: endpoints " + first + " is not host:port", nil
	}
	db.User, db.Password = data["username"], data["password"]
	if uri := data["secret-user"]; uri != "" {
		content, err := goops.GetSecretByID(uri, false, true)
		if err != nil {
			return db, endpoint + " relation: cannot read the secret-user secret of " + remote, nil
		}
		db.User, db.Password = content["username"], content["password"]
	}
	if db.User == "" || db.Password == "" {
		return db, "waiting for " + remote + " to share credentials", nil
	}
	db.Database = firstDatabase(c.Databases)
	return db, "", nil
}

func firstDatabase(s string) string {
	names := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
