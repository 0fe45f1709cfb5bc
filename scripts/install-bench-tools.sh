#!/usr/bin/env bash
# install-bench-tools.sh installs what the end-to-end benchmarks (./bench)
# compare against beyond the databases and S3 servers: pgBackRest, from
# Debian (2.45 on bookworm). Idempotent; run as root (or with sudo).
set -euo pipefail
if command -v pgbackrest >/dev/null 2>&1; then
	echo "pgbackrest: $(pgbackrest version)"
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends pgbackrest
echo "pgbackrest: $(pgbackrest version)"
