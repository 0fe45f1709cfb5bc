package main

import (
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// The agent advertises credentials-secret in its application databag, so
// that a manager uses the extension with it.
func TestAdvertisesCapabilities(t *testing.T) {
	w, _ := postgresWorld(t, 2)
	got, err := dbbackup.ParseCapabilities(w.m.RelationData(w.rel, "agent")[dbbackup.CapabilitiesKey])
	if err != nil || !got.Has(dbbackup.CredentialsSecret) {
		t.Errorf("capabilities = %v, %v; want credentials-secret", got, err)
	}
}
