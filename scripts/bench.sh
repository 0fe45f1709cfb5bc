#!/usr/bin/env bash
# bench.sh runs the benchmarks. Each benchmark that has a target measures its
# baseline in the same run and prints the ratio (see docs/performance.md), so
# figures from a shared, noisy machine stay comparable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
go test -run '^$' -bench . -benchmem -count 1 ./... | grep -Ev '^(PASS|ok|\?)\s' || true
