#!/usr/bin/env bash
# install-bench-tools.sh installs what the end-to-end benchmarks (./bench)
# compare against beyond the databases and S3 servers: pgBackRest (2.45 on
# bookworm) and the zstd command of the floor pipelines, from Debian.
# Idempotent; run as root (or with sudo).
set -euo pipefail
missing=()
command -v pgbackrest >/dev/null 2>&1 || missing+=(pgbackrest)
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
if [ "${#missing[@]}" -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "pgbackrest: $(pgbackrest version)"
echo "zstd: $(zstd --version)"
