#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module for the given time each
# (default 10s) and lists the ones that failed. Targets are found by name:
# func FuzzXxx in *_test.go. A run that ends with Go's own "context deadline
# exceeded" (the fuzzing engine stopping mid-exchange with a worker, not a
# finding: no input is saved) is tried once more.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t="${1:-10s}"
failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "== fuzz ${pkg} ${name} for ${t}"
		for try in 1 2; do
			if go test -run '^$' -fuzz "^${name}\$" -fuzztime "${t}" "${pkg}" >"$log" 2>&1; then
				tail -1 "$log"
				break
			fi
			if [[ $try -eq 1 ]] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "(the fuzzing engine timed out talking to a worker; trying again)"
				continue
			fi
			cat "$log"
			failed+=("${pkg} ${name}")
			break
		done
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
if [[ ${#failed[@]} -gt 0 ]]; then
	printf 'fuzz: FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz: every target ran without a failure"
