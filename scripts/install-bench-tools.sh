#!/usr/bin/env bash
# install-bench-tools.sh installs what the end-to-end benchmarks (./bench)
# compare against beyond the databases and S3 servers: pgBackRest (2.45 on
# bookworm) and the zstd command of the floor pipelines, from Debian,
# through scripts/apt-install.sh (the same rules as install-databases.sh).
# Idempotent; run as root.
set -euo pipefail
missing=()
command -v pgbackrest >/dev/null 2>&1 || missing+=(pgbackrest)
command -v zstd >/dev/null 2>&1 || missing+=(zstd)
bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" install-bench-tools "${missing[@]}"
echo "pgbackrest: $(pgbackrest version)"
echo "zstd: $(zstd --version)"
