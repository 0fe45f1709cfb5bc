#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module for the given time each
# (default 10s). Targets are found by name: func FuzzXxx in *_test.go.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t="${1:-10s}"
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "== fuzz ${pkg} ${name} for ${t}"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "${t}" "${pkg}"
	done
done
