// Package spec holds the JSON Schemas of the database_backup v0 relation
// interface as this project speaks it: requirer.json and provider.json,
// described in README.md beside them.
//
// The package is named spec, not after its folder, on purpose. The folder
// names the interface's version, as the published interface specifications
// do, so that v1 can sit beside it for other implementers; a package named
// v0 would say nothing where it is used (v0.Requirer), and tools that guess
// a package's name from its import path take the element before a version
// element, here interface, a Go keyword. Importers therefore name the
// import: spec "github.com/dbbackup/dbbackup/interface/v0".
package spec

import _ "embed"

// Requirer is requirer.json: the requirer's application databag, with jobs
// decoded from its JSON string.
//
//go:embed requirer.json
var Requirer []byte

// Provider is provider.json: a provider unit's databag, with jobs decoded
// from its JSON string.
//
//go:embed provider.json
var Provider []byte

// RequirerID and ProviderID are the $id of the two schemas.
const (
	RequirerID = "https://github.com/dbbackup/dbbackup/interface/v0/requirer.json"
	ProviderID = "https://github.com/dbbackup/dbbackup/interface/v0/provider.json"
)
