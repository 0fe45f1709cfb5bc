// Package layers holds no code: its test loads every package of the module
// with `go list` and fails when a package imports one its layer may not,
// per the table in rules_test.go, which mirrors the "Packages" table of
// DESIGN.md and the "Layers" section of docs/architecture.md.
package layers
