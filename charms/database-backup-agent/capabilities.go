package main

import (
	"fmt"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
)

// capabilities are the extensions of the wire this provider supports for
// a database of kind, advertised in its application databag
// (interface/v0/README.md): physical base backups for PostgreSQL, restores
// to a time for MariaDB/MySQL, and for PostgreSQL when physical restores
// are configured (data-directory and server-control: the server is
// stopped and its data directory rewritten). They do not depend on archive-logs: the
// archive may be written by another archiver, and a restore to a time the
// archive does not reach is refused before it touches the database (see
// docs/provider.md).
func capabilities(kind engine.Kind, physicalRestores bool) dbbackup.Capabilities {
	c := dbbackup.Capabilities{dbbackup.CredentialsSecret, dbbackup.EncryptionSecret}
	switch kind {
	case engine.PostgreSQL:
		c = append(c, dbbackup.Physical)
		if physicalRestores {
			c = append(c, dbbackup.PointInTime)
		}
	case engine.MySQL:
		c = append(c, dbbackup.PointInTime)
	}
	return c
}

// advertise writes, on the leader, the capabilities for a database of
// kind (physicalRestores: see capabilities) into the application
// databag of every database-backup relation
// where they differ.
func advertise(kind engine.Kind, physicalRestores bool) error {
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs("database-backup")
	if err != nil {
		return fmt.Errorf("cannot list the database-backup relations: %w", err)
	}
	want := capabilities(kind, physicalRestores).String()
	for _, id := range ids {
		app, _ := goops.GetRelationApp(id)
		if app == "" {
			continue // a relation being set up or torn down
		}
		self, _, _ := strings.Cut(goops.ReadEnv().UnitName, "/")
		have, err := goops.GetAppRelationData(id, self)
		if err != nil {
			return fmt.Errorf("cannot read the application data of relation %s: %w", id, err)
		}
		if have[dbbackup.CapabilitiesKey] == want {
			continue
		}
		if err := goops.SetAppRelationData(id, map[string]string{dbbackup.CapabilitiesKey: want}); err != nil {
			return fmt.Errorf("cannot advertise the capabilities on relation %s: %w", id, err)
		}
	}
	return nil
}
