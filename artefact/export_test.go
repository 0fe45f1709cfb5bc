package artefact

import "github.com/dbbackup/dbbackup/store"

// NewCountingStore returns st counting the objects read through it
// (Gets), for the tests of package artefact_test.
func NewCountingStore(st store.Store) *countingStore { return &countingStore{Store: st} }
