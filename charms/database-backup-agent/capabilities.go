package main

import (
	"fmt"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// capabilities are the extensions of the wire this provider supports,
// advertised in its application databag (interface/v0/README.md).
var capabilities = dbbackup.Capabilities{dbbackup.CredentialsSecret, dbbackup.EncryptionSecret}

// advertise writes, on the leader, the capabilities into the application
// databag of every database-backup relation where they differ.
func advertise() error {
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs("database-backup")
	if err != nil {
		return fmt.Errorf("cannot list the database-backup relations: %w", err)
	}
	want := capabilities.String()
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
