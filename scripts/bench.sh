#!/usr/bin/env bash
# bench.sh runs the benchmarks and prints, for every benchmark measured at
# two sizes (names ending in 1000 and 10000, say), the ratio of their times
# against the ratio of their sizes: figures from one run on a shared, noisy
# machine compare with each other, not with another day's.
#
# Usage: scripts/bench.sh [go test -bench regexp]   (default: all)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pattern="${1:-.}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench "$pattern" -benchmem -count 1 -timeout 120m ./... 2>&1 | tee "$out" | grep -Ev '^(PASS$|ok\s|\?\s|goos:|goarch:|cpu:)' || true
if grep -qE '^(--- FAIL|FAIL|panic)' "$out"; then
	echo "bench: a benchmark failed" >&2
	exit 1
fi
echo
echo "== ratios measured in this run (time ratio vs size ratio; linear means equal)"
awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (match(name, /[0-9]+$/)) {
		size = substr(name, RSTART) + 0; base = substr(name, 1, RSTART - 1)
		for (i = 2; i <= NF; i++) if ($(i) == "ns/op") ns = $(i-1)
		key = base; n[key]++; sz[key, n[key]] = size; t[key, n[key]] = ns
	}
}
END {
	for (k in n) if (n[k] >= 2 && t[k,1] > 0) {
		if (sz[k,1] == 0)
			printf "%-40s %6d -> %-6d: %5.1fx the time of the empty case\n", k, sz[k,1], sz[k,2], t[k,2]/t[k,1]
		else
			printf "%-40s %6d -> %-6d: %5.1fx the time for %5.1fx the size\n", k, sz[k,1], sz[k,2], t[k,2]/t[k,1], sz[k,2]/sz[k,1]
	}
}' "$out" | sort
