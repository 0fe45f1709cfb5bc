package memstore_test

import (
	"testing"

	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
	"github.com/dbbackup/dbbackup/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() }, storetest.Options{})
}
