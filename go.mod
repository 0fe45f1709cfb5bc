module github.com/dbbackup/dbbackup

go 1.26

require (
	github.com/canonical/pebble v1.22.2 // indirect
	github.com/gorilla/websocket v1.5.1 // indirect
	github.com/gruyaume/goops v0.0.23 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.40.0 // indirect
	golang.org/x/sys v0.33.0 // indirect
	golang.org/x/text v0.25.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
