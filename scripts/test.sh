#!/usr/bin/env bash
# test.sh runs every test with the race detector (the arguments are the
# packages, default ./...) and prints what `go test` prints, then every
# skipped test with its reason, which `go test` hides without -v
# (scripts/testsum). Under CI=true a skipped test fails the run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pkgs=("$@")
if [[ ${#pkgs[@]} -eq 0 ]]; then pkgs=(./...); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/testsum" ./scripts/testsum || exit 1
go test -race -count=1 -timeout 40m -json "${pkgs[@]}" 2>&1 | "$tmp/testsum"
status=("${PIPESTATUS[@]}")
if [[ ${status[0]} -ne 0 ]]; then exit "${status[0]}"; fi
exit "${status[1]}"
