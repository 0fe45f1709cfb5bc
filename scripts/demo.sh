#!/usr/bin/env bash
# demo.sh runs the most complete flow the project has, on embedded defaults:
# validate the published v0 examples and the seed's (whose requirer example
# is invalid JSON, and is rejected with the byte offset), print the merged
# job table of a manager unit's `juju show-unit` output, then back up a real
# PostgreSQL database to a real S3 server and restore it (internal/clidemo).
# It installs what is missing first (PostgreSQL from Debian, versitygw).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=bin/dbbackup
fail=0
step() { echo; echo "\$ $*"; "$@"; }
expect() { # expect CODE CMD...: run CMD, fail the demo unless it exits CODE
	local want=$1; shift
	step "$@"; local got=$?
	if [[ $got -ne $want ]]; then echo "!! exit $got, want $want"; fail=1; fi
}
expect 0 "$bin" validate --side requirer dbbackup/testdata/published-requirer.json
expect 0 "$bin" validate --side provider dbbackup/testdata/published-provider.json
expect 1 "$bin" validate --side requirer dbbackup/testdata/seed-requirer-invalid.json
expect 0 "$bin" validate --side requirer dbbackup/testdata/seed-requirer-fixed.json
expect 0 "$bin" validate --side provider internal/bagfile/testdata/show-unit-manager.yaml
expect 1 "$bin" validate --side requirer internal/bagfile/testdata/show-unit-provider.yaml
expect 0 "$bin" jobs internal/bagfile/testdata/show-unit-manager.yaml
echo
echo "== the engine room: a real backup and restore"
if ! go run ./internal/clidemo "$bin"; then fail=1; fi
echo
if [[ $fail -ne 0 ]]; then echo "demo: FAILED"; exit 1; fi
echo "demo: every step behaved as expected"
