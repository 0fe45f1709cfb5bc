// Package conformance is the conformance kit of the database_backup
// interface: `go test ./charms/conformance/` runs the seed's behaviours
// against a provider charm and a requirer charm, each given as a folder or
// a .charm file, in the model in a box (jujusim) against a real versitygw.
// Without flags it runs them against dbbackup's own charms and the
// seed-only charms of testdata/. docs/conformance.md says how to point it
// at another charm.
package conformance
