#!/usr/bin/env bash
# bench.sh runs the benchmarks, then prints, for every benchmark measured at
# two sizes (names ending in 1000 and 10000, say), the ratio of their times
# against the ratio of their sizes: figures from one run on a shared, noisy
# machine compare with each other, not with another day's.
#
# It exits non-zero when a benchmark fails, and when a target is missed or
# could not be measured (a MISSED or NOT MEASURED line), unless
# BENCH_TARGETS=report, which prints the verdicts without judging them (for
# exploration). The end-to-end benchmarks in ./bench read
# DBBACKUP_BENCH_SCALE and DBBACKUP_BENCH_ROUNDS (docs/performance.md).
#
# Usage: scripts/bench.sh [go test -bench regexp]   (default: all)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${BENCH_TARGETS:-enforce}" in
enforce | report) ;;
*)
	echo "bench: BENCH_TARGETS must be enforce (the default) or report, not ${BENCH_TARGETS}" >&2
	exit 2
	;;
esac
pattern="${1:-.}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
benchtime=()
if [ -n "${BENCHTIME:-}" ]; then benchtime=(-benchtime "$BENCHTIME"); fi
set +e
go test -run '^$' -bench "$pattern" "${benchtime[@]}" -benchmem -count 1 -timeout 180m ./... 2>&1 |
	tee "$out" | grep -Ev '^(PASS$|ok\s|\?\s|goos:|goarch:|cpu:)'
gotest=${PIPESTATUS[0]} # grep's status (1 when it filtered every line) does not count
set -e
if [ "$gotest" -ne 0 ] || grep -qE '^(--- FAIL|FAIL|panic)' "$out"; then
	echo "bench: a benchmark failed or missed a target (go test exit status $gotest)" >&2
	exit 1
fi
if [ "${BENCH_TARGETS:-enforce}" != report ] && grep -qE '(MISSED|NOT MEASURED)' "$out"; then
	echo "bench: targets missed or not measured (BENCH_TARGETS=report only prints them):" >&2
	grep -E '(MISSED|NOT MEASURED)' "$out" >&2
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
