#!/usr/bin/env bash
# demo.sh runs the most complete flow the project has, on embedded defaults:
#  1. the whole flow in jujusim (cmd/demo): PostgreSQL and MariaDB, each
#     with the backup agent charm, the manager charm with a versitygw S3
#     server; for each create-backup, list-backups, break the data,
#     restore, the data back; then a schedule with retention;
#  2. the wire: validate the published v0 examples and the seed's (whose
#     requirer example is invalid JSON, rejected with the byte offset), and
#     the merged job table of a manager unit's `juju show-unit` output;
#  3. the engine room from a shell (demo shell), for PostgreSQL and then
#     MariaDB: dbbackup backup, list, verify, restore, and a damaged backup
#     refused.
# make demo installs what is missing first (PostgreSQL, MariaDB, versitygw).
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
echo "== 1. the whole flow in jujusim"
if ! go run ./cmd/demo; then fail=1; fi
echo
echo "== 2. the wire"
expect 0 "$bin" validate --side requirer dbbackup/testdata/published-requirer.json
expect 0 "$bin" validate --side provider dbbackup/testdata/published-provider.json
expect 1 "$bin" validate --side requirer dbbackup/testdata/seed-requirer-invalid.json
expect 0 "$bin" validate --side requirer dbbackup/testdata/seed-requirer-fixed.json
expect 0 "$bin" validate --side provider internal/bagfile/testdata/show-unit-manager.yaml
expect 1 "$bin" validate --side requirer internal/bagfile/testdata/show-unit-provider.yaml
expect 0 "$bin" jobs internal/bagfile/testdata/show-unit-manager.yaml
echo
echo "== 3. the engine room from a shell"
if ! go run ./cmd/demo shell "$bin"; then fail=1; fi
echo
if [[ $fail -ne 0 ]]; then echo "demo: FAILED"; exit 1; fi
echo "demo: every step behaved as expected"
