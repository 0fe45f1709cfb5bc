// Package spec holds the JSON Schemas of the database_backup v0 relation
// interface as this project speaks it: requirer.json and provider.json,
// described in README.md beside them.
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
